import type { Logger } from '../log.js';

/**
 * Owns what a job creates. Register each cleanup right after the resource exists; `dispose()` runs
 * them in reverse order, logs (never throws) a failed step so it cannot hide the job's own error,
 * and gives up waiting after `deadlineMs` so a wedged engine cannot hang the exit.
 */
export class ResourceScope implements AsyncDisposable {
  private readonly stack: { label: string; fn: () => unknown }[] = [];
  private disposal?: Promise<void>;

  constructor(
    private readonly log: Logger,
    private readonly deadlineMs = 30_000,
  ) {}

  defer(label: string, fn: () => unknown): void {
    if (this.disposal) throw new Error(`ResourceScope already disposed; cannot register ${label}`);
    this.stack.push({ label, fn });
  }

  dispose(): Promise<void> {
    this.disposal ??= this.run();
    return this.disposal;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }

  private async run(): Promise<void> {
    const steps = async () => {
      while (this.stack.length > 0) {
        const { label, fn } = this.stack.pop()!;
        try {
          await fn();
          this.log.debug(`removed ${label}`);
        } catch (err) {
          this.log.warn(`Cleanup of ${label} failed: ${(err as Error)?.message ?? String(err)}. \`sm-local prune\` removes leftovers.`);
        }
      }
    };
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), this.deadlineMs);
      timer.unref();
    });
    const outcome = await Promise.race([steps().then(() => 'done' as const), deadline]);
    clearTimeout(timer);
    if (outcome === 'late') this.log.warn(`Cleanup did not finish within ${this.deadlineMs / 1000} s; \`sm-local prune\` removes what is left.`);
  }
}
