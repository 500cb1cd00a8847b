#!/usr/bin/env bash
# `npm run demo`: installs dependencies (and a Docker Engine) on first use, bundles shoal, runs the 3-node demo.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x node_modules/.bin/node ] || npm install --no-audit --no-fund --loglevel=error
bash scripts/ensure-docker.sh >/dev/null 2>&1 || echo "note: no Docker Engine; the demo shows the control plane only" >&2
node_modules/.bin/node scripts/bundle.mjs
exec node_modules/.bin/node node_modules/.bin/tsx scripts/demo.ts "$@"
