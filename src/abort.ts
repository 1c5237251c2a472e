/**
 * Stop requests arrive as AbortSignals, and one may already have fired by the time anyone listens (a
 * Ctrl-C while an endpoint was becoming ready). Listening only through these two makes that case the
 * same as any other: the handler runs at once.
 */

/** Runs `fn` once `signal` aborts, at once if it already has. Returns what stops listening. */
export function onAbort(signal: AbortSignal | undefined, fn: () => void): () => void {
  if (!signal) return () => {};
  if (signal.aborted) {
    fn();
    return () => {};
  }
  signal.addEventListener('abort', fn, { once: true });
  return () => signal.removeEventListener('abort', fn);
}

/** Settles when `signal` aborts, at once if it already has. */
export function whenAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => onAbort(signal, resolve));
}
