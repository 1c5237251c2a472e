#!/usr/bin/env bash
# Starts a private Podman API service for the Podman tests, and prints its DOCKER_HOST on stdout.
# On Debian as root it installs Debian's podman, writes the containers.conf it needs here, starts
# `podman system service` on a socket of its own (its own storage too, under .test-results/podman,
# so it never touches a Podman the machine already has), and copies the project's images into it
# from the Docker engine. `scripts/ensure-podman.sh stop` stops it. Exit 0 when it answers.
set -u
cd "$(dirname "$0")/.."
say() { echo "[podman] $*" >&2; }
dir="$PWD/.test-results/podman"
sock="$dir/podman.sock"
pidfile="$dir/service.pid"

stop() {
  if [ -f "$pidfile" ]; then kill "$(cat "$pidfile")" 2>/dev/null; rm -f "$pidfile"; fi
}
if [ "${1:-}" = stop ]; then stop; exit 0; fi

answers() { curl -sf --max-time 2 --unix-socket "$sock" http://podman/_ping >/dev/null 2>&1; }

if ! command -v podman >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing podman from Debian's packages…"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman curl) >&2 || { say "apt-get install podman failed"; exit 1; }
  else
    say "podman is not installed (apt-get install podman)"; exit 1
  fi
fi

mkdir -p "$dir"
# Podman's default open-files limit (1048576) is above this machine's hard limit, and every
# container would fail to start with it: keep the limits the service itself runs with.
cat >"$dir/containers.conf" <<'CONF'
[containers]
default_ulimits = []
CONF
export CONTAINERS_CONF="$dir/containers.conf"

# Docker Engine on the same machine sets the FORWARD policy to DROP, and with br_netfilter that also
# drops traffic between two containers on one of Podman's internal networks (network-isolated jobs):
# let Podman's bridges forward to themselves, as they do on a machine without Docker.
if command -v iptables >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  iptables -C FORWARD -i podman+ -o podman+ -j ACCEPT 2>/dev/null || iptables -I FORWARD -i podman+ -o podman+ -j ACCEPT
fi

if ! answers; then
  stop
  rm -f "$sock"
  say "starting podman system service on $sock (log: $dir/service.log)…"
  nohup podman --root "$dir/storage" --runroot "$dir/run" system service --time=0 "unix://$sock" >"$dir/service.log" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 1 30); do answers && break; sleep 0.5; done
  answers || { say "podman did not answer; see $dir/service.log"; exit 1; }
fi
npx --no-install tsx scripts/copy-images.ts "unix://$sock" >&2 || { say "could not copy the images into Podman"; exit 1; }
echo "unix://$sock"
