/**
 * CloudWatch Logs as SageMaker fills it (CONTRACT §9.6), from the containers' output: a group per
 * job kind (`/aws/sagemaker/TrainingJobs`, `/ProcessingJobs`, `/TransformJobs`) and per endpoint
 * (`/aws/sagemaker/Endpoints/<name>`), a stream per host, each line an event with its time. The
 * operations the SDKs call on the way (`DescribeLogStreams`, `GetLogEvents`, `FilterLogEvents`), in
 * the Logs wire protocol (AWS JSON 1.1, `X-Amz-Target: Logs_20140328.<Op>`).
 */
import type { ApiError } from '../contract/api-wire.js';

type Json = Record<string, unknown>;
export type LogsAnswer = { ok: true; body: Json } | { ok: false; error: ApiError };

interface LogEvent {
  timestamp: number;
  ingestionTime: number;
  message: string;
}

interface LogStream {
  name: string;
  createdAt: number;
  events: LogEvent[];
}

/** Events kept per stream; older ones are dropped (CloudWatch keeps them, a laptop need not). */
const MAX_EVENTS_PER_STREAM = 100_000;

const notFound = (what: 'log group' | 'log stream'): ApiError => ({ status: 400, code: 'ResourceNotFoundException', message: `The specified ${what} does not exist.` });
const invalid = (message: string): ApiError => ({ status: 400, code: 'InvalidParameterException', message });
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export class LogStore {
  private readonly groups = new Map<string, Map<string, LogStream>>();

  constructor(
    private readonly region: string,
    private readonly account: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Appends one line of a container's output to `group`/`stream`, created on first use. */
  append(group: string, stream: string, message: string): void {
    let streams = this.groups.get(group);
    if (!streams) this.groups.set(group, (streams = new Map()));
    let s = streams.get(stream);
    const t = this.now();
    if (!s) streams.set(stream, (s = { name: stream, createdAt: t, events: [] }));
    s.events.push({ timestamp: t, ingestionTime: t, message });
    if (s.events.length > MAX_EVENTS_PER_STREAM) s.events.splice(0, s.events.length - MAX_EVENTS_PER_STREAM);
  }

  readonly operations: Record<string, (body: Json) => LogsAnswer> = {
    DescribeLogStreams: (b) => this.describeLogStreams(b),
    GetLogEvents: (b) => this.getLogEvents(b),
    FilterLogEvents: (b) => this.filterLogEvents(b),
  };

  private group(body: Json): Map<string, LogStream> | ApiError {
    const name = typeof body.logGroupName === 'string' ? body.logGroupName : typeof body.logGroupIdentifier === 'string' ? body.logGroupIdentifier.replace(/^arn:aws:logs:[^:]*:[^:]*:log-group:/, '').replace(/:\*$/, '') : undefined;
    if (name === undefined) return invalid('1 validation error detected: Value null at \'logGroupName\' failed to satisfy constraint: Member must not be null');
    // A group exists once something logged to it (SageMaker creates it with the first job or endpoint).
    return this.groups.get(name) ?? notFound('log group');
  }

  private describeLogStreams(body: Json): LogsAnswer {
    const streams = this.group(body);
    if (!(streams instanceof Map)) return { ok: false, error: streams };
    const prefix = typeof body.logStreamNamePrefix === 'string' ? body.logStreamNamePrefix : '';
    const byTime = body.orderBy === 'LastEventTime';
    if (byTime && prefix) return { ok: false, error: invalid('Cannot order by LastEventTime with a logStreamNamePrefix.') };
    const limit = num(body.limit) ?? 50;
    if (limit < 1 || limit > 50) return { ok: false, error: invalid('1 validation error detected: Value at \'limit\' failed to satisfy constraint: Member must have value between 1 and 50') };
    const list = [...streams.values()].filter((s) => s.name.startsWith(prefix));
    const last = (s: LogStream) => s.events.at(-1)?.timestamp ?? s.createdAt;
    list.sort((a, b) => (byTime ? last(a) - last(b) : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (body.descending === true) list.reverse();
    const offset = typeof body.nextToken === 'string' ? Number(/^s\/(\d+)$/.exec(body.nextToken)?.[1] ?? NaN) : 0;
    if (Number.isNaN(offset)) return { ok: false, error: invalid('The specified nextToken is invalid.') };
    const page = list.slice(offset, offset + limit);
    const group = String(body.logGroupName ?? '');
    return {
      ok: true,
      body: {
        logStreams: page.map((s) => ({
          logStreamName: s.name,
          creationTime: s.createdAt,
          ...(s.events.length ? { firstEventTimestamp: s.events[0]!.timestamp, lastEventTimestamp: last(s), lastIngestionTime: s.events.at(-1)!.ingestionTime } : {}),
          arn: `arn:aws:logs:${this.region}:${this.account}:log-group:${group}:log-stream:${s.name}`,
          storedBytes: 0,
        })),
        ...(offset + limit < list.length ? { nextToken: `s/${offset + limit}` } : {}),
      },
    };
  }

  /**
   * GetLogEvents with CloudWatch's tokens: `f/<n>` reads forward from event n, `b/<n>` backward from
   * it. At the end the forward token comes back unchanged, which is how clients (the SageMaker
   * Python SDK, `aws logs tail`) know they have read everything so far.
   */
  private getLogEvents(body: Json): LogsAnswer {
    const streams = this.group(body);
    if (!(streams instanceof Map)) return { ok: false, error: streams };
    const stream = typeof body.logStreamName === 'string' ? streams.get(body.logStreamName) : undefined;
    if (!stream) return { ok: false, error: notFound('log stream') };
    const limit = num(body.limit) ?? 10_000;
    if (limit < 1 || limit > 10_000) return { ok: false, error: invalid('1 validation error detected: Value at \'limit\' failed to satisfy constraint: Member must have value between 1 and 10000') };
    const start = num(body.startTime);
    const end = num(body.endTime);
    const events = stream.events.filter((e) => (start === undefined || e.timestamp >= start) && (end === undefined || e.timestamp < end));
    let from: number;
    let to: number;
    const token = typeof body.nextToken === 'string' ? /^([fb])\/(\d+)$/.exec(body.nextToken) : undefined;
    if (body.nextToken !== undefined && !token) return { ok: false, error: invalid('The specified nextToken is invalid.') };
    if (token?.[1] === 'f') {
      from = Math.min(Number(token[2]), events.length);
      to = Math.min(from + limit, events.length);
    } else if (token?.[1] === 'b') {
      to = Math.min(Number(token[2]), events.length);
      from = Math.max(0, to - limit);
    } else if (body.startFromHead === true) {
      from = 0;
      to = Math.min(limit, events.length);
    } else {
      to = events.length;
      from = Math.max(0, to - limit);
    }
    return { ok: true, body: { events: events.slice(from, to), nextForwardToken: `f/${to}`, nextBackwardToken: `b/${from}` } };
  }

  /** FilterLogEvents: every stream of the group (or those named, or with the prefix), events in time order; `filterPattern` as plain terms that must all appear. */
  private filterLogEvents(body: Json): LogsAnswer {
    const streams = this.group(body);
    if (!(streams instanceof Map)) return { ok: false, error: streams };
    const names = Array.isArray(body.logStreamNames) ? body.logStreamNames.map(String) : undefined;
    const prefix = typeof body.logStreamNamePrefix === 'string' ? body.logStreamNamePrefix : undefined;
    if (names && prefix !== undefined) return { ok: false, error: invalid('logStreamNames and logStreamNamePrefix cannot both be given.') };
    const limit = num(body.limit) ?? 10_000;
    const start = num(body.startTime);
    const end = num(body.endTime);
    // The filter pattern syntax is CloudWatch's; sm-local matches plain terms only (quoted phrases as one term).
    const terms = typeof body.filterPattern === 'string' ? (body.filterPattern.match(/"[^"]*"|\S+/g) ?? []).map((t) => t.replace(/^"|"$/g, '')) : [];
    const picked = [...streams.values()].filter((s) => (names ? names.includes(s.name) : prefix === undefined || s.name.startsWith(prefix)));
    const all = picked
      .flatMap((s) => s.events.map((e, i) => ({ logStreamName: s.name, timestamp: e.timestamp, message: e.message, ingestionTime: e.ingestionTime, eventId: `${s.name}/${i}` })))
      .filter((e) => (start === undefined || e.timestamp >= start) && (end === undefined || e.timestamp < end) && terms.every((t) => e.message.includes(t)))
      .sort((a, b) => a.timestamp - b.timestamp);
    const offset = typeof body.nextToken === 'string' ? Number(/^e\/(\d+)$/.exec(body.nextToken)?.[1] ?? NaN) : 0;
    if (Number.isNaN(offset)) return { ok: false, error: invalid('The specified nextToken is invalid.') };
    return {
      ok: true,
      body: {
        events: all.slice(offset, offset + limit),
        searchedLogStreams: picked.map((s) => ({ logStreamName: s.name, searchedCompletely: true })),
        ...(offset + limit < all.length ? { nextToken: `e/${offset + limit}` } : {}),
      },
    };
  }
}
