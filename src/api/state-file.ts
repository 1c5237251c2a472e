/**
 * The file the local SageMaker keeps its resources in between runs (`<state>/state.json`, 0600):
 * written whole and renamed into place, secret-looking values sealed (sealed-state.ts), and read
 * back only while no other live server owns it.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { UsageError } from '../errors.js';
import { isProcessAlive } from '../jobs/prune.js';
import type { SavedState } from './records.js';
import { StateSealer } from './sealed-state.js';

export class StateFile {
  private sealer?: Promise<StateSealer>;

  constructor(readonly path: string) {}

  private sealed(): Promise<StateSealer> {
    return (this.sealer ??= StateSealer.open(dirname(this.path)));
  }

  /** Every request the state holds, for sealing and opening. */
  private static requests(state: SavedState): { request: Record<string, unknown> }[] {
    return [...state.trainingJobs, ...Object.values(state.jobs).flat(), ...state.models, ...state.endpointConfigs];
  }

  async write(state: SavedState): Promise<void> {
    const sealer = await this.sealed();
    const copy = structuredClone(state);
    for (const r of StateFile.requests(copy)) r.request = sealer.seal(r.request);
    await writeFile(`${this.path}.tmp`, JSON.stringify(copy, null, 1), { mode: 0o600 });
    await rename(`${this.path}.tmp`, this.path);
  }

  /** The saved state, or undefined when there is none yet; refused while the server that wrote it still runs. */
  async read(): Promise<SavedState | undefined> {
    let state: SavedState;
    try {
      state = JSON.parse(await readFile(this.path, 'utf8')) as SavedState;
      const sealer = await this.sealed();
      for (const r of StateFile.requests(state)) r.request = sealer.unseal(r.request);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new UsageError(`The local SageMaker's state file ${this.path} cannot be read: ${(err as Error).message}`, 'Move it away to start empty, or give another --state folder.');
    }
    const prev = state.owner;
    if (prev.hostname === hostname() && prev.pid !== process.pid && isProcessAlive(prev.pid)) {
      throw new UsageError(`Another sm-local api (pid ${prev.pid}) uses the state in ${this.path}.`, 'Stop it first, or give this one another --state folder.');
    }
    return state;
  }
}
