#!/usr/bin/env bash
# Makes sure Debian's chromium is installed for the web UI's browser test (test/ui): installs the
# package when missing (needs root). puppeteer-core drives it; no browser is downloaded.
# Idempotent; prints what it did.
set -uo pipefail
if command -v chromium >/dev/null 2>&1; then echo "chromium already installed"; exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "chromium is missing and this is not root: install Debian's chromium package"; exit 1; fi
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || exit 1
echo "chromium installed"
