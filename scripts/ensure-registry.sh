#!/usr/bin/env bash
# Installs Debian's docker-registry (distribution 2.8) for the tests that push to and pull from a
# real registry (they start their own on loopback with a temporary config: test/support/registry.ts).
# Idempotent; needs root to install; the tests skip with a message when it is missing.
set -uo pipefail
if [ -x /usr/bin/docker-registry ]; then echo "docker-registry already installed"; exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "docker-registry is missing and this is not root: install docker-registry"; exit 1; fi
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null || exit 1
# The package enables a system service on :5000; the tests run their own.
if command -v systemctl >/dev/null 2>&1; then systemctl disable --now docker-registry >/dev/null 2>&1 || true; fi
echo "docker-registry installed"
