#!/usr/bin/env bash
# Runs every benchmark (not part of the tests): `npm run bench`. Needs the engine and a build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-engine.sh
npm run --silent build >&2
echo "== bench/train-overhead (example at 3000 and 10000 epochs, trivial job)"
npx --no-install tsx bench/train-overhead.ts "${ROUNDS:-10}" 3000
npx --no-install tsx bench/train-overhead.ts "${ROUNDS:-10}" 10000 --example-only
echo "== bench/pack"
npx --no-install tsx bench/pack.ts "${PACK_ROUNDS:-5}"
