import { describe, expect, it } from 'vitest';
import { compileMetrics, finalMetrics, matchMetrics } from './metrics.js';

describe('metric definitions (CONTRACT §3.13)', () => {
  const log = ['epoch 1 train_loss=0.91 acc: 51.0%', 'epoch 2 train_loss=0.52 acc: 77.5%', 'saving model', 'epoch 3 train_loss=0.25 acc: 90.1%', 'loss=nan'];

  it('takes the first group of each regex from every line, in order, with Python named groups', () => {
    const { metrics, problems } = compileMetrics([
      { Name: 'train:loss', Regex: 'train_loss=([0-9.]+)' },
      { Name: 'train:acc', Regex: 'acc: (?P<acc>[0-9.]+)%' },
    ]);
    expect(problems).toEqual([]);
    const series = log.flatMap((line, i) => matchMetrics(line, metrics, 1000 + i));
    expect(series).toEqual([
      { MetricName: 'train:loss', Value: 0.91, Timestamp: 1000 },
      { MetricName: 'train:acc', Value: 51, Timestamp: 1000 },
      { MetricName: 'train:loss', Value: 0.52, Timestamp: 1001 },
      { MetricName: 'train:acc', Value: 77.5, Timestamp: 1001 },
      { MetricName: 'train:loss', Value: 0.25, Timestamp: 1003 },
      { MetricName: 'train:acc', Value: 90.1, Timestamp: 1003 },
    ]);
    expect(finalMetrics(series, metrics)).toEqual([
      { MetricName: 'train:loss', Value: 0.25, Timestamp: 1003 },
      { MetricName: 'train:acc', Value: 90.1, Timestamp: 1003 },
    ]);
  });

  it('uses the whole match when the regex has no group, and skips values that are not numbers', () => {
    const { metrics } = compileMetrics([{ Name: 'n', Regex: '[0-9]+(?=%)' }, { Name: 'loss', Regex: 'loss=(\\S+)' }]);
    expect(matchMetrics('acc 42% loss=nan', metrics, 1)).toEqual([{ MetricName: 'n', Value: 42, Timestamp: 1 }]);
  });

  it('reports a regex that does not compile, with its field path', () => {
    const { metrics, problems } = compileMetrics([{ Name: 'ok', Regex: 'a=(\\d+)' }, { Name: 'bad', Regex: 'loss=([0-9.]+' }]);
    expect(metrics.map((m) => m.name)).toEqual(['ok']);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.path).toBe('AlgorithmSpecification.MetricDefinitions[1].Regex');
    expect(problems[0]!.message).toMatch(/^"loss=\(\[0-9\.\]\+" is not a valid regular expression/);
  });
});
