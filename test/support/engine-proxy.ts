import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { DockerClient } from '../../src/docker/client.js';

/** What a rule sees of a request: method and path with the API version prefix removed (`/containers/x/kill`). */
export interface EngineCall {
  method: string;
  path: string;
  query: URLSearchParams;
}

export interface EngineRule {
  match: (call: EngineCall) => boolean;
  /** Hold the request this long before passing it on (a slow or loaded engine). */
  delayMs?: number;
  /** Answer it here instead of the engine, after the engine answered (its response is read and dropped). */
  replace?: (call: EngineCall, upstream: { status: number; headers: IncomingMessage['headers'] }, res: ServerResponse) => void;
}

export interface EngineProxy {
  /** A client that talks to the real engine through the proxy. */
  docker: DockerClient;
  /** `unix://…` for DOCKER_HOST. */
  dockerHost: string;
  /** Every call seen, in order. */
  calls: EngineCall[];
  close(): Promise<void>;
}

/**
 * A Docker Engine API proxy on a unix socket of its own, in front of the real engine
 * (/var/run/docker.sock), that can delay or rewrite chosen calls: an engine that is slow, or one that
 * answers differently (as Podman's Docker-compatible API does), for tests that need one. Streams,
 * long polls (`wait`) and upgraded connections (`attach` with hijack) pass through untouched.
 */
export async function startEngineProxy(rules: EngineRule[] = [], upstreamSocket = '/var/run/docker.sock'): Promise<EngineProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'sm-local-engine-proxy-'));
  const socketPath = join(dir, 'docker.sock');
  const calls: EngineCall[] = [];
  const parse = (req: IncomingMessage): EngineCall => {
    const url = new URL(req.url ?? '/', 'http://engine');
    return { method: req.method ?? 'GET', path: url.pathname.replace(/^\/v\d+\.\d+/, ''), query: url.searchParams };
  };
  const server = createServer((req, res) => {
    const call = parse(req);
    calls.push(call);
    const rule = rules.find((r) => r.match(call));
    const forward = () => {
      const up = request({ socketPath: upstreamSocket, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
        if (rule?.replace) {
          upRes.resume();
          upRes.once('end', () => rule.replace!(call, { status: upRes.statusCode ?? 500, headers: upRes.headers }, res));
          return;
        }
        res.writeHead(upRes.statusCode ?? 500, upRes.headers);
        // An attach answers its headers long before any body: the client waits for them to start the container.
        res.flushHeaders();
        upRes.pipe(res);
      });
      up.on('error', () => res.destroy());
      res.on('close', () => up.destroy());
      req.pipe(up);
    };
    if (rule?.delayMs) setTimeout(forward, rule.delayMs);
    else forward();
  });
  server.on('upgrade', (req, socket, head) => {
    calls.push(parse(req));
    const up = connect(upstreamSocket, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`, ...Object.entries(req.headers).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}`)];
      up.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    const end = () => {
      up.destroy();
      socket.destroy();
    };
    up.on('error', end);
    socket.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    docker: new DockerClient(new Docker({ socketPath })),
    dockerHost: `unix://${socketPath}`,
    calls,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
