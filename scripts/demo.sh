#!/usr/bin/env bash
# The README's demo: on a fresh machine, sets everything up and trains the bundled example image
# (logistic regression in plain Python on a bundled CSV) with `sm-local train`.
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

DATA=examples/logistic-regression/data
say "sm-local train sm-local-example/logistic-regression:latest …"
MODEL=$(node dist/sm-local.mjs train sm-local-example/logistic-regression:latest \
  --channel "train=$DATA/train,content-type=text/csv" \
  --channel "validation=$DATA/validation,content-type=text/csv" \
  --hyperparameter epochs=300 --hyperparameter learning_rate=0.5)
say "model.tar.gz landed at: $MODEL"
tar -tzvf "$MODEL" >&2
echo "$MODEL"
