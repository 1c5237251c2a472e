import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ip = (...args: string[]) => run('ip', args);

export interface OutsideHost {
  /** `address:port` of a TCP server that answers "hi" and closes. */
  target: string;
  close(): Promise<void>;
}

/**
 * A stand-in for "the internet" that never leaves this machine: a network namespace of the test's
 * own, joined to the host by a veth pair on a private /30 and routed like any outside address, with
 * a TCP server in it. Containers on a normal bridge network reach it through the host's routing; a
 * container with no route out (an isolated network) does not. Needs root and iproute2.
 */
export async function startOutsideHost(): Promise<OutsideHost> {
  const id = randomBytes(3).toString('hex');
  const ns = `smlt-${id}`;
  const hostSide = `smh${id}`;
  const nsSide = `smn${id}`;
  const net = `10.213.${randomInt(0, 256)}`;
  const address = `${net}.2`;
  const port = 7070;
  const inNs = (...args: string[]) => ip('netns', 'exec', ns, ...args);
  let server: ChildProcess | undefined;

  const close = async () => {
    server?.kill('SIGKILL');
    // Deleting the namespace deletes its end of the pair, and with it the host's end.
    await ip('netns', 'del', ns).catch(() => undefined);
    await ip('link', 'del', hostSide).catch(() => undefined);
  };

  try {
    await ip('netns', 'add', ns);
    await ip('link', 'add', hostSide, 'type', 'veth', 'peer', 'name', nsSide);
    await ip('link', 'set', nsSide, 'netns', ns);
    await ip('addr', 'add', `${net}.1/30`, 'dev', hostSide);
    await ip('link', 'set', hostSide, 'up');
    await inNs('ip', 'addr', 'add', `${address}/30`, 'dev', nsSide);
    await inNs('ip', 'link', 'set', nsSide, 'up');
    await inNs('ip', 'link', 'set', 'lo', 'up');
    await inNs('ip', 'route', 'add', 'default', 'via', `${net}.1`);
    const script = `require('net').createServer((s) => s.end('hi')).listen(${port}, '${address}', () => console.log('listening'))`;
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    server = child;
    await new Promise<void>((resolve, reject) => {
      let err = '';
      child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
      child.stdout!.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`the outside host's server exited (${code}): ${err}`)));
    });
  } catch (err) {
    await close();
    throw err;
  }
  return { target: `${address}:${port}`, close };
}
