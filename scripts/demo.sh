#!/usr/bin/env bash
# The README's demo: on a fresh machine, sets everything up, then runs the bundled example image
# (logistic regression in plain Python on a bundled CSV) end to end: `sm-local train`, then
# `sm-local serve` with the model.tar.gz it produced, then `sm-local invoke`, then Ctrl-C; and
# then `sm-local check`, the conformance verdict on the same image; and last the one-image pipeline
# (process → train → serve with per-step entrypoints).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "[demo] $*" >&2; }

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages…"
  npm ci --no-audit --no-fund >&2
fi
bash scripts/ensure-engine.sh
say "building sm-local…"
npm run --silent build >&2
say "building the example image from local files (cached)…"
npx --no-install tsx scripts/ensure-images.ts example >&2

SM_LOCAL="dist/cli-bundle/sm-local.mjs"
EXAMPLE=examples/logistic-regression
IMAGE=sm-local-example/logistic-regression:latest

say "1/5 sm-local train $IMAGE …"
MODEL=$($SM_LOCAL train "$IMAGE" \
  --channel "train=$EXAMPLE/data/train,content-type=text/csv" \
  --channel "validation=$EXAMPLE/data/validation,content-type=text/csv" \
  --hyperparameter epochs=300 --hyperparameter learning_rate=0.5)
say "model.tar.gz landed at: $MODEL"

say "2/5 sm-local serve $IMAGE --model $MODEL …"
OUT=$(mktemp)
$SM_LOCAL serve "$IMAGE" --model "$MODEL" --name logreg-demo --port 0 >"$OUT" &
SERVE=$!
trap 'kill -INT $SERVE 2>/dev/null || true; wait $SERVE 2>/dev/null || true; rm -f "$OUT"' EXIT
for _ in $(seq 1 300); do
  [ -s "$OUT" ] && break
  kill -0 $SERVE 2>/dev/null || { say "sm-local serve exited before the endpoint was ready"; exit 1; }
  sleep 0.2
done
say "InvokeEndpoint URL: $(head -1 "$OUT")"

say "3/5 sm-local invoke logreg-demo with $EXAMPLE/sample-request.csv …"
$SM_LOCAL invoke logreg-demo --body "@$EXAMPLE/sample-request.csv" --content-type text/csv --accept application/json
echo
say "stopping the endpoint (Ctrl-C)…"
kill -INT $SERVE
wait $SERVE
trap - EXIT
rm -f "$OUT"

say "4/5 sm-local check $IMAGE (settings in $EXAMPLE/sm-local.check.json): train, stop, bad input, serve, probe…"
(cd "$EXAMPLE" && "$OLDPWD/$SM_LOCAL" check)
say "5/5 the one-image pipeline: sm-local process, then train, then serve, one image (examples/one-image-pipeline)…"
bash examples/one-image-pipeline/run.sh
say "done: model at $MODEL"
