/** `sm-local api` started as users start it (the bundled CLI), for tests that drive it with real clients. */
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI_BIN } from '../../scripts/lib/paths.js';

export interface ApiCli {
  child: ChildProcess;
  /** The URL it printed on stdout. */
  url: string;
  /** Its stderr so far. */
  stderr(): string;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `sm-local api ARGS`; resolves once it printed its URL and its environment lines. */
export async function startApiCli(args: string[], env: NodeJS.ProcessEnv): Promise<ApiCli> {
  const child = spawn(CLI_BIN, ['api', '--port', '0', ...args], { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (c: Buffer) => resolve(c.toString().trim()));
    child.once('exit', (code) => reject(new Error(`sm-local api exited with ${code}: ${err}`)));
  });
  // Its log lines come just after the URL.
  for (let i = 0; i < 200 && !err.includes('Serving until Ctrl-C'); i++) await new Promise((r) => setTimeout(r, 10));
  return {
    child,
    url,
    stderr: () => err,
    stop: (signal = 'SIGINT') => {
      if (child.exitCode !== null) return Promise.resolve(child.exitCode);
      const exit = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      child.kill(signal);
      return exit;
    },
  };
}
