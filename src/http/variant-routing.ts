/**
 * Where one InvokeEndpoint call goes on an endpoint of production variants (CONTRACT §4.4, §8):
 * TargetVariant, or the variants' weights, pick a variant; its instances take turns; the model's
 * execution mode picks the containers: the one container, all of them in series, or the one
 * TargetContainerHostname names. Pure routing: no requests are made here.
 */
import type { Dispatcher } from 'undici';
import { directInvocationError, noWeightedVariant, unknownVariant, type RuntimeError } from '../contract/serving.js';

/**
 * A multi-model endpoint's models (CONTRACT §7): where a TargetModel is invoked once it is loaded
 * (`/models/<name>/invoke`), or the runtime error the client gets instead (no such model, still
 * loading after 60 s). `done` follows each invocation (to unload with caching disabled).
 */
export interface ModelRouter {
  route(targetModel: string): Promise<{ path: string } | { error: RuntimeError }>;
  done?(targetModel: string): void;
}

/** One container's server: the name the runtime's messages give it (`primary`, or its ContainerHostname), and a pool to it. */
export interface ContainerTarget {
  name: string;
  pool: Dispatcher;
}

/** One instance of a variant: every container of its model, and its own loaded models when it is multi-model. */
export interface InstanceTarget {
  containers: ContainerTarget[];
  models?: ModelRouter;
}

export interface VariantTarget {
  variantName: string;
  /** InitialVariantWeight. */
  weight: number;
  mode: 'Single' | 'Serial' | 'Direct';
  instances: InstanceTarget[];
}

/** What one call is sent to: the variant that answers, its instance, and the containers in the order they are called. */
export interface Route {
  variant: VariantTarget;
  instance: InstanceTarget;
  chain: ContainerTarget[];
}

export class VariantRouter {
  /** Smooth weighted round robin: each variant's share is exactly weight / sum of weights over every cycle. */
  private readonly current: number[];
  private readonly turn: number[];

  constructor(
    private readonly endpointName: string,
    readonly variants: readonly VariantTarget[],
  ) {
    this.current = variants.map(() => 0);
    this.turn = variants.map(() => 0);
  }

  /** Every container of the endpoint, once. */
  containers(): ContainerTarget[] {
    return this.variants.flatMap((v) => v.instances.flatMap((i) => i.containers));
  }

  pick(request: { targetVariant?: string; targetContainer?: string }): Route | { error: RuntimeError } {
    let index: number;
    if (request.targetVariant !== undefined) {
      index = this.variants.findIndex((v) => v.variantName === request.targetVariant);
      if (index < 0) return { error: unknownVariant(request.targetVariant, this.endpointName, this.variants.map((v) => v.variantName)) };
    } else {
      index = this.byWeight();
      if (index < 0) return { error: noWeightedVariant(this.endpointName) };
    }
    const variant = this.variants[index]!;
    const instance = variant.instances[this.turn[index]! % variant.instances.length]!;
    this.turn[index] = (this.turn[index]! + 1) % variant.instances.length;
    if (variant.mode !== 'Direct') {
      if (request.targetContainer !== undefined) return { error: directInvocationError.notDirect(this.endpointName) };
      return { variant, instance, chain: variant.mode === 'Serial' ? instance.containers : instance.containers.slice(0, 1) };
    }
    if (request.targetContainer === undefined) return { error: directInvocationError.missing(this.endpointName) };
    const target = instance.containers.find((c) => c.name === request.targetContainer);
    if (!target) return { error: directInvocationError.unknown(request.targetContainer, this.endpointName, instance.containers.map((c) => c.name)) };
    return { variant, instance, chain: [target] };
  }

  private byWeight(): number {
    let total = 0;
    let best = -1;
    this.variants.forEach((v, i) => {
      if (v.weight <= 0) return;
      total += v.weight;
      this.current[i]! += v.weight;
      if (best < 0 || this.current[i]! > this.current[best]!) best = i;
    });
    if (best >= 0) this.current[best]! -= total;
    return best;
  }
}
