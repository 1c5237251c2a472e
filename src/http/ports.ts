import { createServer } from 'node:net';
import { PortInUseError } from '../errors.js';

/** Binds `port` on 127.0.0.1 for a moment: the port it got (a free one for 0), or PortInUseError. */
export function probePort(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' || err.code === 'EACCES' ? new PortInUseError(port, err) : err));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
      const address = server.address();
      const got = typeof address === 'object' && address ? address.port : port;
      server.close(() => resolve(got));
    });
  });
}
