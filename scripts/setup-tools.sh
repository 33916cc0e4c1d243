#!/usr/bin/env bash
# Installs the build tools Switchyard takes from npm into <workspace>/.tools (gitignored).
#
# Why npm's binaryen: Debian's binaryen (wasm-opt 108) emits wasm that fails in the browser
# ("WebAssembly.Table.set(): Argument 1 is invalid"); npm's binaryen >= 116 works and ships a
# prebuilt wasm-opt inside the package, so nothing is downloaded from elsewhere.
# backend/build.rs finds the result at .tools/node_modules/.bin/wasm-opt (or $SWITCHYARD_WASM_OPT).
#
# Idempotent: does nothing when the pinned version is already installed.
set -euo pipefail

BINARYEN_VERSION=132.0.0
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
wasm_opt="$tools/node_modules/.bin/wasm-opt"

installed="$(node -p "require('$tools/node_modules/binaryen/package.json').version" 2>/dev/null || true)"
if [[ "$installed" == "$BINARYEN_VERSION" && -x "$wasm_opt" ]]; then
    echo "setup-tools: binaryen $installed already in $tools"
    exit 0
fi

mkdir -p "$tools"
# A private package.json keeps npm from walking up and treating the workspace as a package.
[[ -f "$tools/package.json" ]] || echo '{"private": true}' > "$tools/package.json"
npm install --prefix "$tools" --no-audit --no-fund --save-exact "binaryen@$BINARYEN_VERSION"
"$wasm_opt" --version
