#!/usr/bin/env bash
# `npm test`: installs dependencies and a Docker Engine on first use, then runs jest on Node 24.
# Extra arguments go to jest (e.g. `npm test -- test/raft`).
set -uo pipefail
cd "$(dirname "$0")/.."
[ -x node_modules/.bin/node ] || npm install --no-audit --no-fund --loglevel=error || exit 1
if [ "${SHOAL_SKIP_DOCKER:-}" != 1 ]; then
  bash scripts/ensure-docker.sh >/dev/null 2>&1 || echo "note: no Docker Engine; tests that need one will say so" >&2
fi
exec node_modules/.bin/node --experimental-vm-modules --no-warnings=ExperimentalWarning node_modules/jest/bin/jest.js "$@"
