#!/usr/bin/env bash
# Runs every benchmark (not part of the tests): `npm run bench`. Needs the engine, a build, and wrk.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-engine.sh
if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2; else echo "bench/serve needs wrk (apt-get install wrk)" >&2; exit 1; fi
fi
npm run --silent build >&2
echo "== bench/train-overhead (example at 3000 and 10000 epochs, trivial job)"
npx --no-install tsx bench/train-overhead.ts "${ROUNDS:-10}" 3000
npx --no-install tsx bench/train-overhead.ts "${ROUNDS:-10}" 10000 --example-only
echo "== bench/process (the preprocessing step of the one-image pipeline, trivial job)"
npx --no-install tsx bench/process.ts "${ROUNDS:-10}"
echo "== bench/transform (SingleRecord CSV through a trivial model at concurrency 1 and 8)"
npx --no-install tsx bench/transform.ts "${TRANSFORM_ROUNDS:-3}" "${TRANSFORM_LINES:-20000}"
echo "== bench/pack"
npx --no-install tsx bench/pack.ts "${PACK_ROUNDS:-5}"
echo "== bench/serve"
npx --no-install tsx bench/serve.ts "${SERVE_ROUNDS:-3}" "${SERVE_SECONDS:-8}"
echo "== bench/multi-model (a loaded model through the proxy against /models/<name>/invoke)"
npx --no-install tsx bench/multi-model.ts "${SERVE_ROUNDS:-3}" "${SERVE_SECONDS:-5}"
echo "== bench/pipeline (a two-container serial pipeline through the proxy against the two direct calls chained)"
npx --no-install tsx bench/pipeline.ts "${SERVE_ROUNDS:-3}" "${SERVE_SECONDS:-5}"
echo "== bench/api (the local SageMaker: DescribeTrainingJob through boto3, a job through the API against sm-local train, memory)"
npx --no-install tsx bench/api.ts "${ROUNDS:-5}"
echo "== bench/ready"
npx --no-install tsx bench/ready.ts "${ROUNDS:-10}"
echo "== bench/reload (serve --watch: save inference.py → the new code answers, against docker run -d + /ping loop)"
npx --no-install tsx bench/reload.ts "${ROUNDS:-10}"
echo "== bench/multihost"
npx --no-install tsx bench/multihost.ts "${ROUNDS:-10}" 4
echo "== bench/check"
npx --no-install tsx bench/check.ts "${ROUNDS:-10}"
echo "== bench/pipe"
npx --no-install tsx bench/pipe.ts "${PIPE_ROUNDS:-5}" 1024
