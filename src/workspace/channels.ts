import { readdir, stat } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { TRAINING_PATHS } from '../contract/paths.js';
import type { ResolvedChannel } from '../contract/training-spec.js';
import type { SpecProblem } from '../errors.js';

/** A bind mount, in the shape the Docker adapter takes. */
export interface BindMount {
  source: string;
  target: string;
  readOnly?: boolean;
}

/** A channel whose local source was checked: a directory, or a single file. */
export interface LocatedChannel extends ResolvedChannel {
  source: string;
  kind: 'directory' | 'file';
}

/**
 * Checks every channel source at once. Relative paths are resolved against `cwd`. A missing or
 * unreadable source is a problem with the channel's field path, so a bad job reports all of them.
 */
export async function locateChannels<C extends Pick<ResolvedChannel, 'channelName' | 'source' | 'sourceUri'>>(
  channels: readonly C[],
  cwd: string,
  /** The field a problem is reported at (default: training's InputDataConfig and --channel). */
  fieldOf: (c: C, index: number) => string = (c, i) => (c.sourceUri !== undefined ? `InputDataConfig[${i}].DataSource.S3DataSource.S3Uri` : `channel "${c.channelName}" (--channel)`),
): Promise<{ located: (C & { kind: 'directory' | 'file' })[]; problems: SpecProblem[] }> {
  const located: (C & { kind: 'directory' | 'file' } | undefined)[] = [];
  const problems: SpecProblem[] = [];
  await Promise.all(
    channels.map(async (c, i) => {
      const source = resolve(cwd, c.source);
      const field = fieldOf(c, i);
      const mapped = c.sourceUri !== undefined ? ` (mapped from ${c.sourceUri})` : '';
      let info;
      try {
        info = await stat(source);
        if (!info.isDirectory() && !info.isFile()) throw new Error('not a file or directory');
      } catch {
        problems.push({ path: field, message: `local data path ${source}${mapped} does not exist or cannot be read. Create it or point it at a folder that holds the data.` });
        return;
      }
      // An S3 prefix with no objects fails CreateTrainingJob itself, before any instance starts
      // (ValidationException "No S3 objects found under S3 URL \"…\" given in input data source. Please
      // ensure … that objects exist under that S3 prefix …", seen in aws/amazon-sagemaker-examples
      // #2267, #2489). A folder with no files is that prefix: refused up front, with the service's reason.
      if (info.isDirectory() && !(await hasFile(source))) {
        problems.push({
          path: field,
          message: `No S3 objects found under ${c.sourceUri !== undefined ? `"${c.sourceUri}" (local folder ${source})` : source} given in input data source: the folder holds no files, and SageMaker refuses the job (ValidationException) before it starts. Put the data in it, or drop it from the job.`,
        });
        return;
      }
      located[i] = { ...c, source, kind: info.isDirectory() ? 'directory' : 'file' };
    }),
  );
  return { located: located.filter((c): c is C & { kind: 'directory' | 'file' } => c !== undefined), problems };
}

/** Whether a folder holds at least one file (an object, in S3 terms) at any depth. */
async function hasFile(dir: string): Promise<boolean> {
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (entry.isFile() || entry.isSymbolicLink()) return true;
    if (entry.isDirectory() && (await hasFile(join(dir, entry.name)))) return true;
  }
  return false;
}

/** Where a channel appears: `/opt/ml/input/data/<channel>` (or `at`: a processing input's LocalPath), a single file inside that folder. */
export function channelMount(c: Pick<LocatedChannel, 'source' | 'kind' | 'channelName'>, at = `${TRAINING_PATHS.data}/${c.channelName}`): BindMount {
  return {
    source: c.source,
    target: c.kind === 'directory' ? at : `${at}/${basename(c.source)}`,
    // Divergence: File-mode channels are writable copies on SageMaker; a read-only bind keeps the user's data safe and costs nothing.
    readOnly: true,
  };
}

/**
 * The objects of a channel: file paths relative to the channel folder (its S3 keys below the prefix),
 * or the file's own name for a single-file channel.
 */
export async function listChannelFiles(c: Pick<LocatedChannel, 'source' | 'kind'>): Promise<string[]> {
  if (c.kind === 'file') return [basename(c.source)];
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile() || entry.isSymbolicLink()) found.push(relative(c.source, path));
    }
  };
  await walk(c.source);
  return found.sort();
}

/** The folder the objects of a channel are relative to. */
export function channelRoot(c: Pick<LocatedChannel, 'source' | 'kind'>): string {
  return c.kind === 'file' ? resolve(c.source, '..') : c.source;
}

/** Read-only binds of some of a channel's objects, each at its key below `/opt/ml/input/data/<channel>` (or `at`). */
export function shardMounts(c: Pick<LocatedChannel, 'source' | 'kind' | 'channelName'>, keys: readonly string[], at = `${TRAINING_PATHS.data}/${c.channelName}`): BindMount[] {
  const root = channelRoot(c);
  return keys.map((key) => ({ source: join(root, key), target: `${at}/${key}`, readOnly: true }));
}
