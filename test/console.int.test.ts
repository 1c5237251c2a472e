import { mkdirSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  CreateProcessingJobCommand,
  CreateTrainingJobCommand,
  DescribeProcessingJobCommand,
  DescribeTrainingJobCommand,
  SageMakerClient,
  waitUntilEndpointInService,
  waitUntilProcessingJobCompletedOrStopped,
  waitUntilTrainingJobCompletedOrStopped,
} from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_IMAGE, fixtureTag, REPO_ROOT } from '../scripts/lib/images.js';
import { startApiServer, type ApiServer } from '../src/api/server.js';
import { browserUnavailable, launchBrowser, screenshotPixels } from './support/browser.js';
import { dockerUnavailable, useTestSession } from './support/session.js';

const EXAMPLE = join(REPO_ROOT, 'examples', 'logistic-regression');
const SHOTS = join(REPO_ROOT, '.test-results', 'console');
const credentials = { accessKeyId: 'sm-local', secretAccessKey: 'sm-local' };
/** The console's colours: the series of a chart, a FailureReason's border, text. */
const SERIES_BLUE: [number, number, number] = [0x00, 0x73, 0xbb];
const FAILURE_RED: [number, number, number] = [0xd1, 0x32, 0x12];
const TEXT_INK: [number, number, number] = [0x16, 0x19, 0x1f];

describe.skipIf(dockerUnavailable() || browserUnavailable())('the console of sm-local api, in Chromium', () => {
  const s = useTestSession();
  let server: ApiServer;
  let sm: SageMakerClient;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  const name = (tag: string) => `${tag}-${s.session}`;
  const training = (job: string, image: string, extra: Record<string, unknown> = {}) => ({
    TrainingJobName: job,
    RoleArn: 'arn:aws:iam::123456789012:role/SageMakerRole',
    AlgorithmSpecification: { TrainingImage: image, TrainingInputMode: 'File' as const, ...(extra.AlgorithmSpecification as object) },
    OutputDataConfig: { S3OutputPath: 's3://bucket/output' },
    ResourceConfig: { InstanceType: 'ml.m5.large' as const, InstanceCount: 1, VolumeSizeInGB: 10 },
    StoppingCondition: { MaxRuntimeInSeconds: 600 },
    ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== 'AlgorithmSpecification')),
  });

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    const s3Root = s.dir('s3');
    mkdirSync(join(s3Root, 'bucket'), { recursive: true });
    cpSync(join(EXAMPLE, 'data', 'train'), join(s3Root, 'bucket', 'data', 'train'), { recursive: true });
    mkdirSync(join(s3Root, 'bucket', 'raw'), { recursive: true });
    writeFileSync(join(s3Root, 'bucket', 'raw', 'rows.csv'), 'a,b\n1,2\n');
    server = await startApiServer({ port: 0, region: 'us-east-1', account: '123456789012', s3Root, outputDir: s.dir('jobs') }, s.deps().deps);
    sm = new SageMakerClient({ endpoint: server.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('follows a running job live: its log grows, its metric chart gets points, its status turns Completed without a reload', async () => {
    const job = name('live');
    await sm.send(
      new CreateTrainingJobCommand(
        training(job, fixtureTag('sigterm-handler'), {
          AlgorithmSpecification: { MetricDefinitions: [{ Name: 'ticks', Regex: 'slow: tick (\\d+)' }] },
          Environment: { SLOW_SECONDS: '6' },
        }),
      ),
    );
    const { page } = browser;
    await page.goto(`${server.url}/console/training-jobs/${job}`);
    await expect.poll(() => page.locator('#logs div').count(), { timeout: 30_000 }).toBeGreaterThan(3);
    const early = await page.locator('#logs div').count();
    // Still the same page (no navigation), still running, and the log keeps coming.
    await expect.poll(() => page.locator('#logs div').count(), { timeout: 30_000 }).toBeGreaterThan(early);
    await expect(page.locator('.status .badge').getAttribute('data-status')).resolves.toBe('InProgress');
    await page.locator('.status .badge[data-status="Completed"]').waitFor({ timeout: 60_000 });
    await expect.poll(() => page.locator('#logs').textContent(), { timeout: 10_000 }).toContain('slow: finished');
    const chart = page.locator('figure.chart[data-metric="ticks"]');
    const points = Number(await chart.getAttribute('data-points'));
    expect(points).toBeGreaterThan(10);
    expect(await chart.locator('circle.point').count()).toBe(points);
    // What the user looks at: the chart's line and points are drawn.
    const pixels = await screenshotPixels(page, chart, join(SHOTS, 'training-chart.png'), SERIES_BLUE);
    expect(pixels.matching).toBeGreaterThan(200);
    await page.screenshot({ path: join(SHOTS, 'training-job.png'), fullPage: true });
    // FinalMetricDataList is the API's, and the page shows it.
    const described = await sm.send(new DescribeTrainingJobCommand({ TrainingJobName: job }));
    expect(await page.locator('main').textContent()).toContain(`ticks = ${described.FinalMetricDataList![0]!.Value}`);
  });

  it('shows a failed job with its FailureReason, its describe.json as the API answers it, and its artifacts to download', async () => {
    const job = name('fails');
    await sm.send(new CreateTrainingJobCommand(training(job, fixtureTag('fails'))));
    await waitUntilTrainingJobCompletedOrStopped({ client: sm, maxWaitTime: 120, minDelay: 1, maxDelay: 1 }, { TrainingJobName: job }).catch(() => undefined);
    const described = await sm.send(new DescribeTrainingJobCommand({ TrainingJobName: job }));
    expect(described.TrainingJobStatus).toBe('Failed');
    const { page } = browser;
    await page.goto(`${server.url}/console/training-jobs/${job}`);
    const failure = page.locator('.failure');
    expect(await failure.locator('pre').textContent()).toBe(described.FailureReason);
    expect(described.FailureReason).toMatch(/the input has no label column/);
    const pixels = await screenshotPixels(page, failure, join(SHOTS, 'failed-job.png'), FAILURE_RED);
    expect(pixels.matching).toBeGreaterThan(100);
    await page.screenshot({ path: join(SHOTS, 'failed-job-page.png'), fullPage: true });
    // describe.json: the same document the API gives.
    const json = (await (await fetch(`${server.url}/console/training-jobs/${job}/describe.json`)).json()) as Record<string, unknown>;
    expect(json.FailureReason).toBe(described.FailureReason);
    expect(json.TrainingJobArn).toBe(described.TrainingJobArn);
    // The partial model the failed job left, downloaded from the page's link.
    const link = page.locator('ul.files a', { hasText: 'model.tar.gz' });
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const saved = join(s.dir('downloads'), 'model.tar.gz');
    await download.saveAs(saved);
    const jobFolder = server.sagemaker.jobFolder('training', job)!;
    expect(readFileSync(saved)).toEqual(readFileSync(join(jobFolder, 'model.tar.gz')));
    await page.goto(`${server.url}/`);
    expect((await page.locator('tbody tr').allTextContents()).some((r) => r.includes(job) && r.includes('Failed'))).toBe(true);
    // Only files the folder lists: a path out of it is not one.
    expect((await fetch(`${server.url}/console/training-jobs/${job}/files/..%2F..%2Fetc%2Fpasswd`)).status).toBe(404);
  });

  it('invokes an endpoint from its page and shows the response with its headers; the front page lists everything', async () => {
    const job = name('model');
    await sm.send(new CreateTrainingJobCommand(training(job, EXAMPLE_IMAGE, { HyperParameters: { epochs: '20' }, InputDataConfig: [{ ChannelName: 'train', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://bucket/data/train' } } }] })));
    await waitUntilTrainingJobCompletedOrStopped({ client: sm, maxWaitTime: 120, minDelay: 1, maxDelay: 1 }, { TrainingJobName: job });
    const artifact = (await sm.send(new DescribeTrainingJobCommand({ TrainingJobName: job }))).ModelArtifacts!.S3ModelArtifacts!;
    const endpoint = name('ep');
    await sm.send(new CreateModelCommand({ ModelName: endpoint, ExecutionRoleArn: 'arn:aws:iam::123456789012:role/SageMakerRole', PrimaryContainer: { Image: EXAMPLE_IMAGE, ModelDataUrl: artifact } }));
    await sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: endpoint, ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: endpoint, InitialInstanceCount: 1, InstanceType: 'ml.m5.large' }] }));
    await sm.send(new CreateEndpointCommand({ EndpointName: endpoint, EndpointConfigName: endpoint }));
    await waitUntilEndpointInService({ client: sm, maxWaitTime: 120, minDelay: 1, maxDelay: 1 }, { EndpointName: endpoint });

    const { page } = browser;
    await page.goto(`${server.url}/console/endpoints/${endpoint}`);
    await page.locator('input[name="contentType"]').fill('text/csv');
    await page.locator('input[name="accept"]').fill('application/json');
    await page.locator('textarea[name="body"]').fill(readFileSync(join(EXAMPLE, 'sample-request.csv'), 'utf8'));
    await page.locator('#invoke button').click();
    await page.locator('#response').waitFor({ state: 'visible' });
    expect(await page.locator('#response-status').textContent()).toMatch(/^200 /);
    expect(await page.locator('#response-headers').textContent()).toMatch(/x-amzn-invoked-production-variant: AllTraffic/);
    const answer = JSON.parse((await page.locator('#response-body').textContent())!) as { predictions: { default: number }[] };
    expect(answer.predictions.map((p) => p.default)).toEqual([1, 0]);
    // The answer is on screen: the box has text drawn in it (the page's text colour), not just a frame.
    const drawn = await screenshotPixels(page, page.locator('#response'), join(SHOTS, 'invocation.png'), TEXT_INK, 60);
    expect(drawn.matching).toBeGreaterThan(300);
    // The container's log on the same page.
    await expect.poll(() => page.locator('#logs').textContent(), { timeout: 10_000 }).toContain('serving model trained');

    await page.goto(`${server.url}/`);
    const rows = await page.locator('tbody tr').allTextContents();
    expect(rows.some((r) => r.includes(job) && r.includes('Completed'))).toBe(true);
    expect(rows.some((r) => r.includes(endpoint) && r.includes('InService'))).toBe(true);
    await page.screenshot({ path: join(SHOTS, 'front-page.png'), fullPage: true });
  });

  it('shows a processing job with its status, instances, log and job folder', async () => {
    const job = name('proc');
    await sm.send(
      new CreateProcessingJobCommand({
        ProcessingJobName: job,
        RoleArn: 'arn:aws:iam::123456789012:role/SageMakerRole',
        AppSpecification: { ImageUri: fixtureTag('processor') },
        ProcessingResources: { ClusterConfig: { InstanceCount: 2, InstanceType: 'ml.m5.large', VolumeSizeInGB: 10 } },
        ProcessingInputs: [{ InputName: 'raw', S3Input: { S3Uri: 's3://bucket/raw', LocalPath: '/opt/ml/processing/input/raw', S3DataType: 'S3Prefix', S3InputMode: 'File' } }],
        ProcessingOutputConfig: { Outputs: [{ OutputName: 'out', S3Output: { S3Uri: 's3://bucket/processed', LocalPath: '/opt/ml/processing/output/out', S3UploadMode: 'EndOfJob' } }] },
        StoppingCondition: { MaxRuntimeInSeconds: 300 },
      }),
    );
    await waitUntilProcessingJobCompletedOrStopped({ client: sm, maxWaitTime: 120, minDelay: 1, maxDelay: 1 }, { ProcessingJobName: job });
    const described = await sm.send(new DescribeProcessingJobCommand({ ProcessingJobName: job }));
    const { page } = browser;
    await page.goto(`${server.url}/console/processing-jobs/${job}`);
    expect(await page.locator('.status .badge').getAttribute('data-status')).toBe(described.ProcessingJobStatus);
    expect(await page.locator('dl').first().textContent()).toContain('2 × ml.m5.large');
    // Both hosts' lines, each prefixed with its host.
    await expect.poll(() => page.locator('#logs .host').allTextContents(), { timeout: 10_000 }).toEqual(expect.arrayContaining(['[algo-1] ', '[algo-2] ']));
    expect(await page.locator('ul.files a').allTextContents()).toContain('describe.json');
    await page.screenshot({ path: join(SHOTS, 'processing-job.png'), fullPage: true });
  });

  it('answers pages only to requests for this machine (a rebound name gets 403), and names what is not there', async () => {
    const status = (host: string, path: string) =>
      new Promise<number>((resolve, reject) => {
        const r = request({ host: '127.0.0.1', port: server.port, path, headers: { host } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        r.on('error', reject);
        r.end();
      });
    expect(await status(`evil.example:${server.port}`, '/')).toBe(403);
    expect(await status(`localhost:${server.port}`, '/')).toBe(200);
    const missing = await fetch(`${server.url}/console/training-jobs/no-such-job`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('No training job named &quot;no-such-job&quot;');
  });
});
