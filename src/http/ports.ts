import { createServer } from 'node:net';
import { PortInUseError } from '../errors.js';

/** A port held on 127.0.0.1 until `release` (idempotent), which frees it at once and settles when closed. */
export interface PortReservation {
  port: number;
  release(): Promise<void>;
}

/**
 * Binds `port` on 127.0.0.1 (a free one for 0) and holds it: no other process can take it until
 * `release`. Rejects with PortInUseError when it is taken.
 */
export function reservePort(port: number): Promise<PortReservation> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' || err.code === 'EACCES' ? new PortInUseError(port, err) : err));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
      const address = server.address();
      let released: Promise<void> | undefined;
      resolve({
        port: typeof address === 'object' && address ? address.port : port,
        // The socket closes within close() itself; the callback only reports it.
        release: () => (released ??= new Promise<void>((done) => server.close(() => done()))),
      });
    });
  });
}

/** Binds `port` on 127.0.0.1 for a moment: the port it got (a free one for 0), or PortInUseError. */
export async function probePort(port: number): Promise<number> {
  const reserved = await reservePort(port);
  await reserved.release();
  return reserved.port;
}
