import type { EndpointIdentity } from '../contract/serving.js';
import type { ForwardContext, InvocationRoutes, ModelRouter, RequestLogEntry } from './forward.js';
import { BufferBudget, containerPool } from './invocation.js';

/** One endpoint the runtime fronts: who it is, where its container listens, its InvokeEndpoint deadline. */
export interface RuntimeTarget {
  endpoint: EndpointIdentity & { variantName: string };
  /** Where the container's server is reached. */
  upstream: { host: string; port: number };
  invocationTimeoutMs: number;
  /** A multi-model endpoint's models. */
  models?: ModelRouter;
}

/**
 * The endpoints one runtime app fronts, by name, each with its own connection pool to its container
 * and one memory budget for all of them. `sm-local serve` registers one; a long-running local
 * SageMaker registers every endpoint it runs.
 */
export class EndpointRegistry implements InvocationRoutes {
  private readonly targets = new Map<string, ForwardContext>();
  private readonly budget: BufferBudget;

  constructor(
    private readonly opts: {
      /** Request and response cap of InvokeEndpoint (6 MiB). */
      cap: number;
      /** Bytes of bodies held in memory at once, across every endpoint. */
      budgetBytes: number;
      /** The account a name that is not registered is reported in. */
      account: string;
      onRequest?: (entry: RequestLogEntry) => void;
    },
  ) {
    this.budget = new BufferBudget(opts.budgetBytes);
  }

  get account(): string {
    return this.opts.account;
  }

  get onRequest(): ((entry: RequestLogEntry) => void) | undefined {
    return this.opts.onRequest;
  }

  /** Routes `target.endpoint.endpointName` to its container; the returned function unregisters it and closes its pool. */
  add(target: RuntimeTarget): () => Promise<void> {
    const name = target.endpoint.endpointName;
    if (this.targets.has(name)) throw new Error(`endpoint ${name} is already registered`);
    const ctx: ForwardContext = {
      pool: containerPool(target.upstream),
      endpoint: target.endpoint,
      cap: this.opts.cap,
      timeoutMs: target.invocationTimeoutMs,
      budget: this.budget,
      ...(this.opts.onRequest ? { onRequest: this.opts.onRequest } : {}),
      ...(target.models ? { models: target.models } : {}),
    };
    this.targets.set(name, ctx);
    return async () => {
      if (this.targets.get(name) !== ctx) return;
      this.targets.delete(name);
      await ctx.pool.destroy();
    };
  }

  lookup(endpointName: string): ForwardContext | undefined {
    return this.targets.get(endpointName);
  }

  /** The endpoint, when exactly one is registered: `GET /ping` and `POST /invocations` go straight to it. */
  sole(): ForwardContext | undefined {
    return this.targets.size === 1 ? [...this.targets.values()][0] : undefined;
  }

  /** Unregisters every endpoint and closes their pools. */
  async close(): Promise<void> {
    const all = [...this.targets.values()];
    this.targets.clear();
    await Promise.all(all.map((c) => c.pool.destroy()));
  }
}
