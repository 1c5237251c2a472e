import { describe, expect, it } from 'vitest';
import { endpointArn, renderDescribeEndpoint } from './endpoint-status.js';

describe('renderDescribeEndpoint', () => {
  it('answers in DescribeEndpoint shape, the ARN lower-cased and the name kept', () => {
    const e = { endpointName: 'DEMO-ep', region: 'us-east-1', account: '123456789012', variantName: 'AllTraffic', image: 'my-model:latest' };
    expect(endpointArn(e)).toBe('arn:aws:sagemaker:us-east-1:123456789012:endpoint/demo-ep');
    expect(renderDescribeEndpoint({ ...e, status: 'InService', createdAt: 1_700_000_000_000, lastModifiedAt: 1_700_000_001_500 })).toEqual({
      EndpointName: 'DEMO-ep',
      EndpointArn: 'arn:aws:sagemaker:us-east-1:123456789012:endpoint/demo-ep',
      EndpointConfigName: 'DEMO-ep',
      ProductionVariants: [{ VariantName: 'AllTraffic', DeployedImages: [{ SpecifiedImage: 'my-model:latest' }], CurrentWeight: 1, DesiredWeight: 1, CurrentInstanceCount: 1, DesiredInstanceCount: 1 }],
      EndpointStatus: 'InService',
      CreationTime: 1_700_000_000,
      LastModifiedTime: 1_700_000_001.5,
    });
  });
});
