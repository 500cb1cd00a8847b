#!/usr/bin/env bash
# `npm run build`: bundles shoal into one CommonJS file and makes it a Node single executable
# application (dist/shoal) that runs on a machine without Node installed.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x node_modules/.bin/node ] || npm install --no-audit --no-fund --loglevel=error
mkdir -p build dist
node_modules/.bin/node scripts/bundle.mjs build/shoal.cjs
cat > build/sea-config.json <<JSON
{ "main": "build/shoal.cjs", "output": "build/shoal.blob", "disableExperimentalSEAWarning": true, "useCodeCache": true,
  "assets": { "agent.cjs": "build/agent.cjs" } }
JSON
node_modules/.bin/node --experimental-sea-config build/sea-config.json
cp "$(readlink -f node_modules/.bin/node)" dist/shoal
chmod u+w dist/shoal
node_modules/.bin/postject dist/shoal NODE_SEA_BLOB build/shoal.blob \
  --sentinel-fuse NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2 >/dev/null
echo "built dist/shoal ($(du -h dist/shoal | cut -f1))"
