#!/usr/bin/env bash
# Installs the pinned npm dependencies when node_modules is missing or older than the lock file.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
command -v node >/dev/null || { echo "[bootstrap] error: Node.js 20 is required (node not found)" >&2; exit 1; }
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || { echo "[bootstrap] error: Node.js >= 20 required, found $(node -v)" >&2; exit 1; }
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[bootstrap] installing the locked npm dependencies" >&2
  # `npm install` rather than `npm ci`: the registry reachable here lacks some other platforms'
  # optional binary packages (e.g. @swc/core-darwin-*), which `npm ci` insists on finding in the
  # lock. The lock still pins every version that is installed. No install scripts are needed:
  # lmdb, msgpackr, @swc/core and esbuild load prebuilt binaries from their platform packages.
  npm install --no-audit --no-fund --loglevel=error >&2
fi
