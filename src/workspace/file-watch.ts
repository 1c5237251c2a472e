/**
 * `--watch`: tells when files under some paths changed, once per burst of changes (an editor's save
 * is often several events: a temporary file, a rename, a chmod). A folder is watched with everything
 * under it; a file through its folder, as editors that save by renaming replace the file itself.
 * Caches and editors' scratch files are not changes.
 */
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { InputPathError, UsageError } from '../errors.js';

/** Names that change without the code changing: Python's caches, version control, editors' scratch files. */
export function ignoredChange(path: string): boolean {
  const parts = path.split(/[\\/]/);
  const name = parts.at(-1) ?? '';
  return (
    parts.some((p) => p === '__pycache__' || p === '.git' || p === '.ipynb_checkpoints' || p === '.mypy_cache' || p === '.pytest_cache') ||
    /\.py[co]$/.test(name) ||
    /\.sw[a-p]x?$/.test(name) ||
    name.endsWith('~') ||
    name.startsWith('.#') ||
    name === '4913' ||
    name === '.DS_Store'
  );
}

/** The changed paths as a report names them: the first five, then how many in all. */
export function describeChanges(changed: readonly string[]): string {
  return `${changed.slice(0, 5).join(', ')}${changed.length > 5 ? `, … (${changed.length} files)` : ''}`;
}

/**
 * How long changes must have paused before they count as one: an editor's save (a scratch file, a
 * rename, a chmod) takes a few milliseconds; a checkout of many files may take longer and then
 * reloads twice, the second superseding the first.
 */
export const SETTLE_MS = 150;

export interface FileWatch {
  close(): void;
}

/**
 * What `--watch [PATH]…` names: the paths given (a bare `--watch` gives ''), else `fallback` (the
 * model, the training code); UsageError when there is neither.
 */
export function watchTargets(given: readonly string[], fallback: string | undefined, missing: { what: string; hint: string }): string[] {
  const paths = given.filter((p) => p !== '');
  if (paths.length) return paths;
  if (fallback !== undefined) return [fallback];
  throw new UsageError(`--watch has nothing to watch: there is no ${missing.what}.`, `Name what to watch: --watch PATH (repeatable), e.g. ${missing.hint}.`);
}

/** The paths to watch, each a folder or a file that exists (else InputPathError, before anything starts). */
export function checkWatchPaths(paths: readonly string[], cwd: string): Promise<{ path: string; dir: boolean }[]> {
  return Promise.all(
    paths.map(async (p) => {
      const path = resolve(cwd, p);
      const info = await stat(path).catch((err: unknown) => {
        throw new InputPathError('A --watch path', path, 'Give a folder or file that exists (the model folder, or code it loads).', err);
      });
      return { path, dir: info.isDirectory() };
    }),
  );
}

/**
 * Calls `onChange` with the changed paths (relative to `cwd` when under it) once the changes
 * have settled for `settleMs`. A path that does not exist is refused before anything is watched.
 */
export async function watchPaths(paths: readonly string[], opts: { cwd: string; settleMs?: number; onChange: (changed: string[]) => void }): Promise<FileWatch> {
  const settleMs = opts.settleMs ?? SETTLE_MS;
  const targets = await checkWatchPaths(paths, opts.cwd);
  const shown = (p: string) => {
    const r = relative(opts.cwd, p);
    return r && !r.startsWith(`..${sep}`) && r !== '..' ? r : p;
  };
  const pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const note = (path: string) => {
    if (closed || ignoredChange(path)) return;
    pending.add(path);
    clearTimeout(timer);
    timer = setTimeout(() => {
      const changed = [...pending].sort().map(shown);
      pending.clear();
      if (!closed) opts.onChange(changed);
    }, settleMs);
  };
  const watchers: FSWatcher[] = targets.map(({ path, dir }) => {
    const root = dir ? path : dirname(path);
    const w = watch(root, { recursive: dir, persistent: true }, (_event, name) => {
      if (name === null) return note(path);
      const full = join(root, name.toString());
      if (!dir && basename(full) !== basename(path)) return;
      note(full);
    });
    // A watched folder that goes away (removed, unmounted) ends its watcher; the others go on.
    w.on('error', () => w.close());
    return w;
  });
  return {
    close: () => {
      closed = true;
      clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}

/** The next burst of changes under `paths` (undefined when `signal` aborts first). */
export async function nextChange(paths: readonly string[], opts: { cwd: string; signal: AbortSignal; settleMs?: number; /** Once the paths are watched. */ onWatching?: () => void }): Promise<string[] | undefined> {
  if (opts.signal.aborted) return undefined;
  let resolveChange!: (changed: string[] | undefined) => void;
  const changed = new Promise<string[] | undefined>((r) => (resolveChange = r));
  const w = await watchPaths(paths, { cwd: opts.cwd, ...(opts.settleMs !== undefined ? { settleMs: opts.settleMs } : {}), onChange: resolveChange });
  const onAbort = () => resolveChange(undefined);
  opts.signal.addEventListener('abort', onAbort, { once: true });
  opts.onWatching?.();
  try {
    return await changed;
  } finally {
    opts.signal.removeEventListener('abort', onAbort);
    w.close();
  }
}
