#!/usr/bin/env bash
# The test command (`npm test`, and what .ci/run runs). On a fresh machine it installs the npm
# packages, installs and starts a Docker engine when it can, builds the base, fixture and example
# images from local files, builds sm-local, runs the unit and integration suites, and ends with the
# line `N passed, N failed`. Under CI=true a missing engine is a failure, never a skip.
set -u
cd "$(dirname "$0")/.."
mkdir -p .test-results
rm -f .test-results/unit.json .test-results/integration.json .test-results/podman.json .test-results/podman-check.json
problem=""
say() { echo "[test] $*" >&2; }

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages…"
  npm ci --no-audit --no-fund >&2 || { echo "0 passed, 1 failed"; exit 1; }
fi

if ! bash scripts/ensure-engine.sh; then
  if [ "${CI:-}" = "true" ]; then problem="no Docker engine (CI=true: integration tests cannot be skipped)"; fi
  say "no Docker engine: integration tests will be skipped"
fi

say "building sm-local…"
npm run --silent build >&2 || problem="${problem:+$problem; }build failed"

if [ -z "$problem" ] && bash -c 'node -e "import(\"dockerode\").then((m) => new m.default().ping()).then(() => process.exit(0), () => process.exit(1))"' 2>/dev/null; then
  say "building images (cached by their inputs)…"
  npx --no-install tsx scripts/ensure-images.ts all >&2 || problem="${problem:+$problem; }images could not be built"
fi

say "unit tests…"
npx --no-install vitest run --project unit --reporter=default --reporter=json --outputFile.json=.test-results/unit.json >&2
unit=$?
say "integration tests…"
npx --no-install vitest run --project integration --reporter=default --reporter=json --outputFile.json=.test-results/integration.json >&2
integration=$?

# The same tests against Podman's Docker-compatible socket: train (one and several hosts, both
# transfer modes, Pipe mode), serve, check, prune, doctor, and the debugging commands (watch, publish, trace, ps, logs, exec). scripts/ensure-podman.sh starts a
# private `podman system service` with its own storage, copies the images into it, and prints its
# DOCKER_HOST; it is stopped again afterwards.
PODMAN_FILES=(test/training.int.test.ts test/training-cluster.int.test.ts test/data-safety.int.test.ts test/cli.int.test.ts test/cli-serve.int.test.ts test/serving.int.test.ts test/debugging.int.test.ts)
# check's catalogue, but for the three tests that assert how a short fixture run ended after its
# SIGTERM: on Podman under load the stop lands too close to the end of these 2-second runs (seen:
# SIGTERM 1.9 s into a 2.0 s run), and the check rightly says SIGTERM handling was not seen.
# Also the crash-on-first-request test: Podman reports the container's exit later, so in one of three
# CI runs the probes after the crash ran before check knew, and failed too (the verdict stayed fail).
PODMAN_CHECK_SKIP='claiming only what it saw of SIGTERM|passes a processing image that keeps the contract|says the job stopped on SIGTERM when it ended well before|names a crash on the first request once'
reports=(".test-results/unit.json:$unit" ".test-results/integration.json:$integration")
if [ -z "$problem" ]; then
  say "integration tests against Podman…"
  if podman_host=$(bash scripts/ensure-podman.sh); then
    on_podman=(env DOCKER_HOST="$podman_host" CONTAINERS_CONF="$PWD/.test-results/podman/containers.conf")
    "${on_podman[@]}" npx --no-install vitest run --project integration --reporter=default --reporter=json --outputFile.json=.test-results/podman.json "${PODMAN_FILES[@]}" >&2
    reports+=(".test-results/podman.json:$?")
    "${on_podman[@]}" npx --no-install vitest run --project integration --reporter=default --reporter=json --outputFile.json=.test-results/podman-check.json \
      --testNamePattern "^(?!.*(${PODMAN_CHECK_SKIP})).*$" test/check.int.test.ts >&2
    reports+=(".test-results/podman-check.json:$?")
    bash scripts/ensure-podman.sh stop
  elif [ "${CI:-}" = "true" ]; then
    problem="Podman could not be started (CI=true: the Podman tests cannot be skipped)"
  else
    say "no Podman: its tests are skipped"
  fi
fi

node scripts/summarize-tests.mjs "${reports[@]}" "problem=$problem"
