#!/usr/bin/env bash
# Makes sure a Docker engine answers, and that the tools that build the base images are present.
# On a fresh Debian machine running as root it installs docker.io, debootstrap and busybox-static
# (and what some tests need: iproute2, openssh-server, podman, chromium) from Debian's packages and starts dockerd in the background. Exit 0 when the engine answers.
set -u
cd "$(dirname "$0")/.."
say() { echo "[setup] $*" >&2; }

# Ask the engine through dockerode, like sm-local does (honours DOCKER_HOST).
engine_up() { node -e "import('dockerode').then((m) => new m.default().ping()).then(() => process.exit(0), () => process.exit(1))" 2>/dev/null; }

can_install() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }
missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)  # the check tests' routed outside host
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)     # the remote-engine test's DOCKER_HOST=ssh://
command -v podman >/dev/null 2>&1 || missing+=(podman) # the integration subset run against Podman
[ -x /usr/bin/chromium ] || missing+=(chromium)        # the console's tests, in a real browser (playwright-core)
[ -x /bin/busybox ] && dpkg -S /bin/busybox 2>/dev/null | grep -q busybox-static || missing+=(busybox-static)

if engine_up && [ ${#missing[@]} -eq 0 ]; then exit 0; fi

if [ ${#missing[@]} -gt 0 ]; then
  if can_install; then
    say "installing ${missing[*]} from Debian's packages…"
    # No package may start its service (openssh-server would listen on port 22 of every address):
    # the tests start their own, on 127.0.0.1 and a port of their own.
    policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && policy=1; fi
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >&2 || say "apt-get failed"
    [ -n "$policy" ] && rm -f /usr/sbin/policy-rc.d
  else
    say "missing ${missing[*]}; install them (apt-get install ${missing[*]}) or run as root on Debian"
  fi
fi

if engine_up; then exit 0; fi

case "${DOCKER_HOST:-unix://}" in
  unix://*) ;;
  *) say "DOCKER_HOST=${DOCKER_HOST} does not answer; not starting a local engine"; exit 1 ;;
esac

if command -v dockerd >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  if ! pgrep -x dockerd >/dev/null 2>&1; then
    mkdir -p .test-results
    say "starting dockerd (log: .test-results/dockerd.log)…"
    nohup dockerd >.test-results/dockerd.log 2>&1 &
  fi
  for _ in $(seq 1 60); do
    if engine_up; then say "Docker engine is up"; exit 0; fi
    sleep 1
  done
  say "dockerd did not answer within 60 s; see .test-results/dockerd.log"
  exit 1
fi
say "no Docker engine answers and none can be started here (need root and dockerd)"
exit 1
