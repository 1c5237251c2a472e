import { spawn, type ChildProcess } from 'node:child_process';
import { CLI_BIN } from '../../scripts/lib/paths.js';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Sees each stderr line, and the child (to send signals). */
  onStderr?: (line: string, child: ChildProcess) => void;
  /** Sees each stdout line, and the child. */
  onStdout?: (line: string, child: ChildProcess) => void;
}

function lines(onLine: ((line: string) => void) | undefined): (chunk: Buffer) => void {
  let pending = '';
  return (chunk) => {
    pending += chunk.toString();
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const line of parts) onLine?.(line);
  };
}

/** Runs the bundled CLI (`npm run build`) to its exit, as the `sm-local` bin. */
export function runCli(args: string[], opts: CliOptions): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    // Run as users run it: the bin itself, so its shebang's node flags apply.
    const child = spawn(CLI_BIN, args, { env: opts.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const outLines = lines((l) => opts.onStdout?.(l, child));
    const errLines = lines((l) => opts.onStderr?.(l, child));
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      outLines(c);
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      errLines(c);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
