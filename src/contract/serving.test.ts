import { describe, expect, it } from 'vitest';
import { readExample } from '../../test/support/examples.js';
import { checkInvokeHeaders, endpointNotFound, logStreamArn, modelErrorFromStatus, modelErrorTimeout, modelErrorUnreadable, payloadTooLarge, renderServingEnvironment } from './serving.js';

const churn = { endpointName: 'churn-xgb-prod', region: 'us-east-1', account: '123456789012' };

describe('runtime errors (CONTRACT §4.5)', () => {
  it('builds the ModelError body of the example, member for member and in order', () => {
    const err = modelErrorFromStatus(churn, 400, 'unsupported content type: application/x-npy');
    expect(err.status).toBe(424);
    expect(err.errorType).toBe('ModelError');
    expect(JSON.stringify(err.body, null, 2)).toBe(readExample('runtime.invoke-endpoint.model-error.body.json').trimEnd());
  });

  it('says "server error" for 5xx', () => {
    expect(modelErrorFromStatus(churn, 503, 'busy').body.Message).toMatch(/^Received server error \(503\) from primary with message "busy"\. See https:\/\/us-east-1\.console/);
  });

  it('words a timeout as the service does, with status 0', () => {
    const body = modelErrorTimeout(churn).body;
    expect(body.OriginalStatusCode).toBe(0);
    expect(body.Message).toBe(
      'Received server error (0) from primary with message "Your invocation timed out while waiting for a response from container primary. Review the latency metrics for each container in Amazon CloudWatch, resolve the issue, and try again.". See https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#logEventViewer:group=/aws/sagemaker/Endpoints/churn-xgb-prod in account 123456789012 for more information.',
    );
  });

  it('has the unreadable-response wording and the log stream ARN', () => {
    expect(modelErrorUnreadable(churn).body.Message).toMatch(/^Received server error \(500\) from primary and could not load the entire response body\. See /);
    expect(logStreamArn(churn)).toBe('arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/churn-xgb-prod');
  });

  it('says an unknown endpoint is not found, as a ValidationError', () => {
    expect(endpointNotFound('nope', '123456789012')).toEqual({ status: 400, errorType: 'ValidationError', body: { Message: 'Endpoint nope of account 123456789012 not found.' } });
  });

  it('answers an oversize request with 413, typed ValidationError so that every SDK names it', () => {
    expect(payloadTooLarge()).toEqual({ status: 413, errorType: 'ValidationError', body: { Message: 'HTTP content length exceeded 6291456 bytes.' } });
  });
});

describe('checkInvokeHeaders', () => {
  it('accepts up to 1024 visible ASCII characters of custom attributes, and nothing else', () => {
    expect(checkInvokeHeaders({ customAttributes: 'a'.repeat(1024) })).toBeUndefined();
    expect(checkInvokeHeaders({ customAttributes: 'a'.repeat(1025) })).toMatch(/customAttributes/);
    expect(checkInvokeHeaders({ customAttributes: 'é' })).toMatch(/visible US-ASCII/);
    expect(checkInvokeHeaders({ contentType: 'x'.repeat(1025) })).toMatch(/contentType/);
  });
});

describe('renderServingEnvironment', () => {
  it('adds the bind-to-port variables only when asked', () => {
    expect(renderServingEnvironment({ A: '1' })).toEqual({ A: '1' });
    expect(renderServingEnvironment({ A: '1' }, { port: 12345, safeRange: [20000, 20099] })).toEqual({ A: '1', SAGEMAKER_BIND_TO_PORT: '12345', SAGEMAKER_SAFE_PORT_RANGE: '20000-20099' });
  });
});
