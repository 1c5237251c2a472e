/**
 * DescribeEndpoint as the service answers it (CONTRACT §4.6, §9.4), for an endpoint sm-local runs:
 * its production variants, each of its instances and images. Data in, data out.
 */
import { epochSeconds } from './training-status.js';
import type { EndpointIdentity } from './serving.js';

export type EndpointStatus = 'Creating' | 'InService' | 'Deleting' | 'Failed' | 'OutOfService';

/** `arn:aws:sagemaker:<region>:<account>:endpoint/<name>`, the name lower-cased as the service does (§9.4). */
export function endpointArn(e: EndpointIdentity): string {
  return `arn:aws:sagemaker:${e.region}:${e.account}:endpoint/${e.endpointName.toLowerCase()}`;
}

/** One production variant as DescribeEndpoint reports it. */
export interface VariantRecord {
  variantName: string;
  /** Its model's images, in container order. */
  images: readonly string[];
  weight: number;
  instanceCount: number;
}

export interface EndpointRecord extends EndpointIdentity {
  /** One variant of one image, or `variants`. */
  variantName?: string;
  image?: string;
  variants?: readonly VariantRecord[];
  status: EndpointStatus;
  /** Epoch ms. */
  createdAt: number;
  lastModifiedAt: number;
  failureReason?: string;
}

export function renderDescribeEndpoint(r: EndpointRecord): Record<string, unknown> {
  return {
    EndpointName: r.endpointName,
    EndpointArn: endpointArn(r),
    EndpointConfigName: r.endpointName,
    ProductionVariants: (r.variants ?? [{ variantName: r.variantName ?? 'AllTraffic', images: [r.image ?? ''], weight: 1, instanceCount: 1 }]).map((v) => ({
      VariantName: v.variantName,
      DeployedImages: v.images.map((image) => ({ SpecifiedImage: image })),
      CurrentWeight: v.weight,
      DesiredWeight: v.weight,
      CurrentInstanceCount: r.status === 'InService' ? v.instanceCount : 0,
      DesiredInstanceCount: v.instanceCount,
    })),
    EndpointStatus: r.status,
    ...(r.failureReason !== undefined ? { FailureReason: r.failureReason } : {}),
    CreationTime: epochSeconds(r.createdAt),
    LastModifiedTime: epochSeconds(r.lastModifiedAt),
  };
}
