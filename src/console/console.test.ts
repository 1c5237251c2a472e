import { describe, expect, it } from 'vitest';
import { formatElapsed, metricChart, niceStep } from './chart.js';
import { html, escapeHtml } from './html.js';
import { endpointPage, indexPage, jobPage, seriesByMetric, when } from './pages.js';

describe('html', () => {
  it('escapes every value that is not already markup, and drops absent ones', () => {
    const name = '<img src=x onerror=alert(1)>';
    expect(html`<td title="${'"q"'}">${name}</td>`.text).toBe('<td title="&quot;q&quot;">&lt;img src=x onerror=alert(1)&gt;</td>');
    expect(html`<p>${html`<b>${'&'}</b>`}${[html`<i>1</i>`, '<2>']}${undefined}${false}</p>`.text).toBe('<p><b>&amp;</b><i>1</i>&lt;2&gt;</p>');
    expect(escapeHtml("it's")).toBe('it&#39;s');
  });
});

describe('metricChart', () => {
  const points = Array.from({ length: 30 }, (_, i) => ({ t: 1000 + i * 2, value: 1 / (i + 1) }));
  it('draws each value as a point on a line, time since the start on x', () => {
    const svg = metricChart('train:loss', points, 1000).text;
    expect(svg.match(/<circle class="point"/g)).toHaveLength(30);
    expect(svg).toContain('data-points="30"');
    expect(svg).toContain('<polyline class="series"');
    expect(svg).toContain('train:loss (last 0.03333, 30 values)');
    expect(svg).toContain('>40s</text>');
    expect(svg).not.toContain('>1m</text>');
  });

  it('says when there is nothing yet, and samples long series to 400 points, keeping the last', () => {
    expect(metricChart('acc', []).text).toContain('acc (no values yet)');
    const long = Array.from({ length: 5000 }, (_, i) => ({ t: i, value: i }));
    const svg = metricChart('n', long).text;
    expect(svg.match(/<circle class="point"/g)).toHaveLength(400);
    expect(svg).toContain('data-points="5000"');
    expect(svg).toContain('<title>1h23m: 4999</title>');
  });

  it('picks ticks a reader can add up', () => {
    expect([niceStep(10, 5), niceStep(0.7, 4), niceStep(3000, 5), niceStep(0, 4)]).toEqual([2, 0.2, 1000, 1]);
    expect([formatElapsed(5), formatElapsed(190), formatElapsed(3900)]).toEqual(['5s', '3m10s', '1h05m']);
  });
});

describe('pages', () => {
  const failed = {
    TrainingJobName: 'j1',
    TrainingJobStatus: 'Failed',
    SecondaryStatus: 'Failed',
    FailureReason: 'AlgorithmError: <script>alert(1)</script>, exit code: 3',
    CreationTime: 1_780_000_000,
    TrainingStartTime: 1_780_000_001,
    TrainingEndTime: 1_780_000_065,
    AlgorithmSpecification: { TrainingImage: 'img:1', MetricDefinitions: [{ Name: 'loss', Regex: 'loss=(\\S+)' }, { Name: 'never', Regex: 'x' }] },
    ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 2 },
    HyperParameters: {},
  };

  it('shows a job: its FailureReason escaped, a chart per metric definition, its files', () => {
    const page = jobPage({
      kind: 'training-jobs',
      describe: failed,
      metricNames: ['loss', 'never'],
      metrics: [{ MetricName: 'loss', Value: 0.5, Timestamp: 1_780_000_010 }, { MetricName: 'loss', Value: 0.25, Timestamp: 1_780_000_020 }],
      files: [{ name: 'model.tar.gz', bytes: 2048 }],
    });
    expect(page).toContain('<div class="failure" role="alert"><strong>FailureReason</strong><pre>AlgorithmError: &lt;script&gt;alert(1)&lt;/script&gt;, exit code: 3</pre></div>');
    expect(page).not.toContain('<script>alert');
    expect(page).toContain('data-metric="loss" data-points="2"');
    expect(page).toContain('never (no values yet)');
    expect(page).toContain('<a href="/console/training-jobs/j1/files/model.tar.gz" download>model.tar.gz</a> <span class="sub">2.0 KiB</span>');
    expect(page).toContain('2 × ml.m5.large');
    expect(page).toContain('data-status="Failed" data-terminal="yes" data-log-group="/aws/sagemaker/TrainingJobs" data-log-prefix="j1/"');
    expect(page).not.toContain('Hyperparameters');
  });

  it('lists jobs and endpoints with links, statuses and durations; a page with work under way refreshes', () => {
    const page = indexPage({
      jobs: { 'training-jobs': [failed, { ...failed, TrainingJobName: 'j2', TrainingJobStatus: 'InProgress', TrainingEndTime: undefined }], 'processing-jobs': [], 'transform-jobs': [] },
      endpoints: [{ EndpointName: 'e1', EndpointStatus: 'InService', EndpointConfigName: 'c1', CreationTime: 1_780_000_000 }],
      apiUrl: 'http://127.0.0.1:8770',
    });
    expect(page).toContain('<a href="/console/training-jobs/j1">j1</a>');
    expect(page).toContain('<td>1m04s</td>');
    expect(page).toContain('<a href="/console/endpoints/e1">e1</a>');
    expect(page).toContain('data-terminal="no"');
    expect(page).toContain('Processing jobs <span class="count">0</span>');
  });

  it('shows processing and transform jobs with their own members (no metrics, their instances and images)', () => {
    const processing = jobPage({
      kind: 'processing-jobs',
      describe: { ProcessingJobName: 'p1', ProcessingJobStatus: 'Completed', ExitMessage: 'wrote 3 files', ProcessingOutputConfig: { Outputs: [{ OutputName: 'o', S3Output: { S3Uri: 's3://b/out' } }] }, AppSpecification: { ImageUri: 'proc:1' }, ProcessingResources: { ClusterConfig: { InstanceType: 'ml.m5.xlarge', InstanceCount: 3 } } },
      files: [],
    });
    expect(processing).toContain('<dd>proc:1</dd>');
    expect(processing).toContain('3 × ml.m5.xlarge');
    expect(processing).toContain('<dd>wrote 3 files</dd>');
    expect(processing).toContain('<dt>Outputs</dt><dd>s3://b/out</dd>');
    expect(processing).not.toContain('<h2>Metrics');
    expect(processing).toContain('data-log-group="/aws/sagemaker/ProcessingJobs" data-log-prefix="p1/"');
    const transform = jobPage({ kind: 'transform-jobs', describe: { TransformJobName: 't1', TransformJobStatus: 'InProgress', ModelName: 'm1', TransformResources: { InstanceType: 'ml.m5.large', InstanceCount: 1 } }, files: [] });
    expect(transform).toContain('<dd>model m1</dd>');
    expect(transform).toContain('data-terminal="no"');
  });

  it('gives an endpoint an invoke form with its variants, and its log group', () => {
    const page = endpointPage({ EndpointName: 'e1', EndpointStatus: 'InService', ProductionVariants: [{ VariantName: 'A', CurrentWeight: 1, CurrentInstanceCount: 1, DeployedImages: [{ SpecifiedImage: 'img:1' }] }, { VariantName: 'B' }] });
    expect(page).toContain('<form id="invoke" data-endpoint="e1">');
    expect(page).toContain('<option>A</option><option>B</option>');
    expect(page).toContain('data-log-group="/aws/sagemaker/Endpoints/e1" data-log-prefix=""');
  });

  it('groups metric points by name and writes API times in UTC', () => {
    expect([...seriesByMetric([{ MetricName: 'a', Value: 1, Timestamp: 5 }, { MetricName: 'b', Value: 2, Timestamp: 6 }, { MetricName: 'a', Value: 3, Timestamp: 7 }])]).toEqual([
      ['a', [{ t: 5, value: 1 }, { t: 7, value: 3 }]],
      ['b', [{ t: 6, value: 2 }]],
    ]);
    expect(when(1_780_000_000.5)).toBe('2026-05-28 20:26:40 UTC');
    expect(when(undefined)).toBe('');
  });
});
