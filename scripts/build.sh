#!/usr/bin/env bash
# `npm run build`: bundles shoal into one CommonJS file and makes it a Node single executable
# application (dist/shoal) that runs on a machine without Node installed.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x node_modules/.bin/node ] || npm ci --no-audit --no-fund --loglevel=error
mkdir -p build dist
# Native add-ons are optional for these packages (they fall back to JS); a single executable
# cannot load .node files, so they stay out of the bundle.
node_modules/.bin/esbuild src/main.ts --bundle --platform=node --format=cjs --target=node24 \
  --outfile=build/shoal.cjs --log-level=warning \
  --external:cbor-extract --external:cpu-features --external:'*.node' \
  --define:import.meta.url=__shoal_import_meta_url \
  --banner:js='const __shoal_import_meta_url = require("url").pathToFileURL(__filename).href;'
cat > build/sea-config.json <<JSON
{ "main": "build/shoal.cjs", "output": "build/shoal.blob", "disableExperimentalSEAWarning": true, "useCodeCache": true }
JSON
node_modules/.bin/node --experimental-sea-config build/sea-config.json
cp "$(readlink -f node_modules/.bin/node)" dist/shoal
chmod u+w dist/shoal
node_modules/.bin/postject dist/shoal NODE_SEA_BLOB build/shoal.blob \
  --sentinel-fuse NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2 >/dev/null
echo "built dist/shoal ($(du -h dist/shoal | cut -f1))"
