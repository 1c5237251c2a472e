import type { Dispatcher } from 'undici';
import type { EndpointIdentity } from '../contract/serving.js';
import { MAX_PAYLOAD_BYTES, PRIMARY_CONTAINER } from '../contract/serving.js';
import type { ForwardContext, InvocationRoutes, RequestLogEntry } from './forward.js';
import { BufferBudget, containerPool } from './invocation.js';
import type { AsyncRoute } from './async-invocation.js';
import { VariantRouter, type ModelRouter, type VariantTarget } from './variant-routing.js';

type Upstream = { host: string; port: number };

/** A production variant as the runtime sees it: each instance's containers by name and where they listen. */
export interface RuntimeVariant extends Omit<VariantTarget, 'instances'> {
  instances: { containers: { name: string; upstream: Upstream }[]; models?: ModelRouter }[];
}

/**
 * One endpoint the runtime fronts: who it is, its InvokeEndpoint deadline, and its containers: one
 * (`upstream`, the single variant `endpoint.variantName`), or its production `variants`.
 */
export interface RuntimeTarget {
  endpoint: EndpointIdentity & { variantName: string };
  invocationTimeoutMs: number;
  /** A single-container endpoint: where the container's server is reached. */
  upstream?: Upstream;
  /** A single-container multi-model endpoint's models. */
  models?: ModelRouter;
  /** Production variants, each of one or more instances of one or more containers (replaces `upstream`). */
  variants?: RuntimeVariant[];
  /** An asynchronous endpoint (AsyncInferenceConfig): InvokeEndpointAsync's queue and S3 locations. */
  async?: AsyncRoute;
}

/** The variants of a target, with a connection pool per container (all of them in `pools`, to close). */
function connect(target: RuntimeTarget): { variants: VariantTarget[]; pools: Dispatcher[] } {
  const pools: Dispatcher[] = [];
  const pool = (upstream: Upstream) => {
    const made = containerPool(upstream);
    pools.push(made);
    return made;
  };
  const given: RuntimeVariant[] = target.variants ?? [
    {
      variantName: target.endpoint.variantName,
      weight: 1,
      mode: 'Single',
      instances: [{ containers: [{ name: PRIMARY_CONTAINER, upstream: target.upstream! }], ...(target.models ? { models: target.models } : {}) }],
    },
  ];
  const variants = given.map((v) => ({
    ...v,
    instances: v.instances.map((i) => ({ containers: i.containers.map((c) => ({ name: c.name, pool: pool(c.upstream) })), ...(i.models ? { models: i.models } : {}) })),
  }));
  return { variants, pools };
}

/**
 * The endpoints one runtime app fronts, by name, each with its own connection pool to its container
 * and one memory budget for all of them. `sm-local serve` registers one; a long-running local
 * SageMaker registers every endpoint it runs.
 */
export class EndpointRegistry implements InvocationRoutes {
  private readonly targets = new Map<string, ForwardContext & { pools: Dispatcher[]; async?: AsyncRoute; drained?: Promise<unknown> }>();
  private readonly budget: BufferBudget;
  private readonly cap: number;

  constructor(
    private readonly opts: {
      /** Request and response cap of InvokeEndpoint (default: the runtime's 6 MiB). */
      cap?: number;
      /** Bytes of bodies held in memory at once, across every endpoint (default: four capped bodies). */
      budgetBytes?: number;
      /** The account a name that is not registered is reported in. */
      account: string;
      onRequest?: (entry: RequestLogEntry) => void;
    },
  ) {
    this.cap = opts.cap ?? MAX_PAYLOAD_BYTES;
    this.budget = new BufferBudget(opts.budgetBytes ?? 4 * this.cap);
  }

  get account(): string {
    return this.opts.account;
  }

  get onRequest(): ((entry: RequestLogEntry) => void) | undefined {
    return this.opts.onRequest;
  }

  /**
   * Routes `target.endpoint.endpointName` to its containers (with `replace`, in place of the ones it
   * routed to: calls under way finish there); the returned function unregisters it and closes its
   * pools, or, once replaced, waits until the calls under way on them have finished.
   */
  add(target: RuntimeTarget, opts: { replace?: boolean } = {}): () => Promise<void> {
    const name = target.endpoint.endpointName;
    // UpdateEndpoint: the new containers take the traffic at once; the old route's unregister is then a no-op.
    const replaced = opts.replace ? this.targets.get(name) : undefined;
    if (this.targets.has(name) && !replaced) throw new Error(`endpoint ${name} is already registered`);
    if (!target.upstream && !target.variants?.length) throw new Error(`endpoint ${name} has no container to route to`);
    const { variants, pools } = connect(target);
    const routes = new VariantRouter(name, variants);
    const containers = routes.containers();
    const ctx: ForwardContext & { pools: Dispatcher[]; async?: AsyncRoute; drained?: Promise<unknown> } = {
      routes,
      pools,
      ...(target.async ? { async: target.async } : {}),
      ...(containers.length === 1 ? { sole: containers[0]!.pool } : {}),
      endpoint: target.endpoint,
      cap: this.cap,
      timeoutMs: target.invocationTimeoutMs,
      budget: this.budget,
      ...(this.opts.onRequest ? { onRequest: this.opts.onRequest } : {}),
    };
    this.targets.set(name, ctx);
    // The replaced route's calls under way finish on its pools, which close once they have.
    if (replaced) replaced.drained = Promise.all(replaced.pools.map((p) => p.close())).catch(() => undefined);
    return async () => {
      // Replaced: its unregister waits for those calls, so the old containers stop only after them.
      if (this.targets.get(name) !== ctx) return void (await ctx.drained);
      this.targets.delete(name);
      await Promise.all(ctx.pools.map((p) => p.destroy()));
    };
  }

  lookup(endpointName: string): ForwardContext | undefined {
    return this.targets.get(endpointName);
  }

  /** The endpoint's InvokeEndpointAsync route, when it is asynchronous. */
  asyncOf(endpointName: string): AsyncRoute | undefined {
    return this.targets.get(endpointName)?.async;
  }

  /**
   * The container, when exactly one endpoint of exactly one container is registered: `GET /ping` and
   * `POST /invocations` go straight to it.
   */
  sole(): { pool: Dispatcher; timeoutMs: number; onRequest?: (entry: RequestLogEntry) => void } | undefined {
    const only = this.targets.size === 1 ? [...this.targets.values()][0] : undefined;
    if (!only?.sole) return undefined;
    return { pool: only.sole, timeoutMs: only.timeoutMs, ...(only.onRequest ? { onRequest: only.onRequest } : {}) };
  }

  /** Unregisters every endpoint and closes their pools. */
  async close(): Promise<void> {
    const all = [...this.targets.values()];
    this.targets.clear();
    await Promise.all(all.flatMap((c) => c.pools.map((p) => p.destroy())));
  }
}
