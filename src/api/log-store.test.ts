import { describe, expect, it } from 'vitest';
import { signedService } from '../http/control-plane.js';
import { LogStore } from './log-store.js';

describe('LogStore', () => {
  let t = 1_000;
  const store = new LogStore('us-east-1', '1', () => (t += 10));
  for (let i = 0; i < 5; i++) store.append('/aws/sagemaker/TrainingJobs', 'job/algo-1-1', `line ${i}`);
  store.append('/aws/sagemaker/TrainingJobs', 'job/algo-2-1', 'other host');
  const get = (body: Record<string, unknown>) => {
    const out = store.operations.GetLogEvents!({ logGroupName: '/aws/sagemaker/TrainingJobs', logStreamName: 'job/algo-1-1', ...body });
    if (!out.ok) throw new Error(out.error.message);
    return out.body as { events: { message: string }[]; nextForwardToken: string; nextBackwardToken: string };
  };

  it('reads forward from the head with tokens, and gives the same forward token back at the end', () => {
    const first = get({ startFromHead: true, limit: 3 });
    expect(first.events.map((e) => e.message)).toEqual(['line 0', 'line 1', 'line 2']);
    const second = get({ nextToken: first.nextForwardToken, limit: 3 });
    expect(second.events.map((e) => e.message)).toEqual(['line 3', 'line 4']);
    const end = get({ nextToken: second.nextForwardToken });
    expect([end.events.length, end.nextForwardToken]).toEqual([0, second.nextForwardToken]);
    // Without a token and startFromHead, the latest events, as CloudWatch answers.
    expect(get({ limit: 2 }).events.map((e) => e.message)).toEqual(['line 3', 'line 4']);
    expect(get({ nextToken: get({ limit: 2 }).nextBackwardToken, limit: 2 }).events.map((e) => e.message)).toEqual(['line 1', 'line 2']);
  });

  it('lists streams by prefix, filters events across streams, and says what does not exist as CloudWatch does', () => {
    const streams = store.operations.DescribeLogStreams!({ logGroupName: '/aws/sagemaker/TrainingJobs', logStreamNamePrefix: 'job/algo-2' });
    expect(streams.ok && (streams.body.logStreams as { logStreamName: string }[]).map((s) => s.logStreamName)).toEqual(['job/algo-2-1']);
    const filtered = store.operations.FilterLogEvents!({ logGroupName: '/aws/sagemaker/TrainingJobs', filterPattern: 'host' });
    expect(filtered.ok && (filtered.body.events as { logStreamName: string; message: string }[]).map((e) => `${e.logStreamName} ${e.message}`)).toEqual(['job/algo-2-1 other host']);
    const noGroup = store.operations.GetLogEvents!({ logGroupName: '/aws/sagemaker/Endpoints/x', logStreamName: 's' });
    expect(!noGroup.ok && [noGroup.error.code, noGroup.error.message]).toEqual(['ResourceNotFoundException', 'The specified log group does not exist.']);
    const noStream = store.operations.GetLogEvents!({ logGroupName: '/aws/sagemaker/TrainingJobs', logStreamName: 'nope' });
    expect(!noStream.ok && noStream.error.message).toBe('The specified log stream does not exist.');
  });
});

describe('signedService', () => {
  it('reads the service from the SigV4 credential scope', () => {
    expect(signedService('AWS4-HMAC-SHA256 Credential=AKID/20261201/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=x')).toBe('sts');
    expect(signedService('AWS4-HMAC-SHA256 Credential=AKID/20261201/us-east-1/sagemaker/aws4_request, SignedHeaders=host')).toBe('sagemaker');
    expect(signedService(undefined)).toBeUndefined();
  });
});
