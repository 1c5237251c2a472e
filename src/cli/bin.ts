#!/usr/bin/env -S node --max-semi-space-size=2
// A small young generation keeps `sm-local serve` lean under load (≈100 MB instead of ≈120 MB at 64
// concurrent requests) and its scavenges cheap. `env -S` passes the flag to node when the bin runs.
import { main } from './main.js';

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 70;
  },
);
