/**
 * What the container is started with. `entrypoint` undefined keeps the image's ENTRYPOINT;
 * `cmd` undefined keeps the image's CMD.
 */
export interface ContainerCommand {
  entrypoint?: string[];
  cmd?: string[];
}

export interface CommandOverride {
  containerEntrypoint?: readonly string[];
  containerArguments?: readonly string[];
}

/**
 * The four-way start rule of CONTRACT §2.1 (DG:your-algorithms-training-algo-dockerfile):
 * - no override: the job word (`train`, `serve`) replaces the image's CMD, or for processing the image runs as built;
 * - ContainerEntrypoint only: it replaces ENTRYPOINT and the image's CMD is dropped, no job word;
 * - ContainerArguments only: the image's ENTRYPOINT stays, the arguments replace CMD, no job word;
 * - both: the given entrypoint with the given arguments.
 * The entrypoint array is set whole through the Engine API, unlike `docker run --entrypoint`, which takes one word.
 */
export function resolveContainerCommand(jobWord: 'train' | 'serve' | undefined, override: CommandOverride = {}): ContainerCommand {
  const { containerEntrypoint: entrypoint, containerArguments: args } = override;
  if (entrypoint && args) return { entrypoint: [...entrypoint], cmd: [...args] };
  if (entrypoint) return { entrypoint: [...entrypoint], cmd: [] };
  if (args) return { cmd: [...args] };
  return jobWord ? { cmd: [jobWord] } : {};
}

/** The argv the container process gets, given the image's own ENTRYPOINT and CMD (Docker's merge rule). */
export function effectiveArgv(command: ContainerCommand, image: { entrypoint?: readonly string[] | null; cmd?: readonly string[] | null }): string[] {
  const entrypoint = command.entrypoint ?? image.entrypoint ?? [];
  // Docker only inherits the image's CMD when the caller set neither an entrypoint nor a command.
  const cmd = command.cmd ?? (command.entrypoint ? [] : (image.cmd ?? []));
  return [...entrypoint, ...cmd];
}
