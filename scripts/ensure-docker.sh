#!/usr/bin/env bash
# Makes sure a Docker Engine answers on /var/run/docker.sock: installs Debian's docker.io and
# starts dockerd when missing (needs root). Idempotent; prints what it did.
set -uo pipefail
if docker info >/dev/null 2>&1; then echo "docker engine already running"; exit 0; fi
if ! command -v dockerd >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then echo "dockerd is missing and this is not root: install docker.io"; exit 1; fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null || exit 1
fi
if [ "$(id -u)" != 0 ]; then echo "dockerd is not running and this is not root: start it"; exit 1; fi
mkdir -p /var/log
# Its own session: killing the process group of whatever started it (a test run) must not stop it.
setsid nohup dockerd >/var/log/shoal-dockerd.log 2>&1 < /dev/null &
for _ in $(seq 1 60); do
  docker info >/dev/null 2>&1 && { echo "docker engine started"; exit 0; }
  sleep 1
done
echo "dockerd did not answer within 60 s; see /var/log/shoal-dockerd.log"; tail -20 /var/log/shoal-dockerd.log; exit 1
