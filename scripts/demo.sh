#!/usr/bin/env bash
# `npm run demo`: installs dependencies on first use, bundles shoal, and runs the 3-node demo.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x node_modules/.bin/node ] || npm ci --no-audit --no-fund --loglevel=error
node_modules/.bin/node scripts/bundle.mjs
exec node_modules/.bin/node node_modules/.bin/tsx scripts/demo.ts "$@"
