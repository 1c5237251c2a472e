#!/usr/bin/env bash
# The one-image pipeline end to end, each step a SageMaker container contract run by sm-local:
#   1. sm-local process: raw CSV → train/validation split  (ContainerEntrypoint preprocess.py)
#   2. sm-local train on the processed outputs             (ContainerEntrypoint logreg.py train)
#   3. sm-local serve the trained model, and one invoke     (the image's own ENTRYPOINT + serve)
# Usage: examples/one-image-pipeline/run.sh [OUTPUT_DIR]   (needs `npm run build` and the images;
# `npm run demo` or `npm test` makes both)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SM_LOCAL="${SM_LOCAL:-$ROOT/dist/cli-bundle/sm-local.mjs}"
IMAGE=sm-local-example/one-image-pipeline:latest
OUT="$(mkdir -p "${1:-sm-local-output}" && cd "${1:-sm-local-output}" && pwd)"
RUN="pipeline-$(date +%Y%m%d-%H%M%S)-$$"
say() { echo "[pipeline] $*" >&2; }

say "1/3 preprocess: sm-local process $IMAGE --entrypoint preprocess.py …"
PROCESSED=$("$SM_LOCAL" process "$IMAGE" --job-name "$RUN-preprocess" --output-dir "$OUT" \
  --entrypoint '["python3", "-u", "/opt/program/preprocess.py"]' \
  --input "raw=$ROOT/examples/logistic-regression/data:/opt/ml/processing/input/raw" \
  --output train --output validation \
  -- --validation-ratio 0.2)
say "processed outputs in $PROCESSED"

say "2/3 train: sm-local train $IMAGE --entrypoint logreg.py train …"
MODEL=$("$SM_LOCAL" train "$IMAGE" --job-name "$RUN-train" --output "$OUT" \
  --entrypoint '["python3", "-u", "/opt/program/logreg.py", "train"]' \
  --channel "train=$PROCESSED/train,content-type=text/csv" --channel "validation=$PROCESSED/validation,content-type=text/csv" \
  --hyperparameter epochs=200)
say "model at $MODEL"

say "3/3 serve: sm-local serve $IMAGE --model $MODEL, then one invoke …"
URLS=$(mktemp)
"$SM_LOCAL" serve "$IMAGE" --model "$MODEL" --name "$RUN" --port 0 >"$URLS" &
SERVE=$!
trap 'kill -INT $SERVE 2>/dev/null || true; wait $SERVE 2>/dev/null || true; rm -f "$URLS"' EXIT
for _ in $(seq 1 300); do
  [ -s "$URLS" ] && break
  kill -0 $SERVE 2>/dev/null || { say "sm-local serve exited before the endpoint was ready"; exit 1; }
  sleep 0.2
done
"$SM_LOCAL" invoke "$RUN" --body "@$ROOT/examples/logistic-regression/sample-request.csv" --content-type text/csv --accept text/csv
kill -INT $SERVE
wait $SERVE
trap - EXIT
rm -f "$URLS"
say "done: one image, three steps (process, train, serve)"
