/**
 * DescribeEndpoint as the service answers it (CONTRACT §4.6, §9.4), for an endpoint sm-local runs:
 * one production variant of one instance. Data in, data out.
 */
import { epochSeconds } from './training-status.js';
import type { EndpointIdentity } from './serving.js';

export type EndpointStatus = 'Creating' | 'InService' | 'Deleting' | 'Failed' | 'OutOfService';

/** `arn:aws:sagemaker:<region>:<account>:endpoint/<name>`, the name lower-cased as the service does (§9.4). */
export function endpointArn(e: EndpointIdentity): string {
  return `arn:aws:sagemaker:${e.region}:${e.account}:endpoint/${e.endpointName.toLowerCase()}`;
}

export interface EndpointRecord extends EndpointIdentity {
  variantName: string;
  image: string;
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
    ProductionVariants: [
      {
        VariantName: r.variantName,
        DeployedImages: [{ SpecifiedImage: r.image }],
        CurrentWeight: 1,
        DesiredWeight: 1,
        CurrentInstanceCount: r.status === 'InService' ? 1 : 0,
        DesiredInstanceCount: 1,
      },
    ],
    EndpointStatus: r.status,
    ...(r.failureReason !== undefined ? { FailureReason: r.failureReason } : {}),
    CreationTime: epochSeconds(r.createdAt),
    LastModifiedTime: epochSeconds(r.lastModifiedAt),
  };
}
