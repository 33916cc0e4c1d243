#!/usr/bin/env bash
# Installs the build and test tools Switchyard takes from npm into <workspace>/.tools (gitignored):
# binaryen's wasm-opt for release builds, and axe-core, whose axe.min.js the browser tests inject
# into the page for the accessibility check (tests/tests/a11y.rs finds it at
# .tools/node_modules/axe-core/axe.min.js, or $SWITCHYARD_AXE_JS).
#
# Why npm's binaryen: Debian's binaryen (wasm-opt 108) emits wasm that fails in the browser
# ("WebAssembly.Table.set(): Argument 1 is invalid"); npm's binaryen >= 116 works and ships a
# prebuilt wasm-opt inside the package, so nothing is downloaded from elsewhere.
# backend/build.rs finds the result at .tools/node_modules/.bin/wasm-opt (or $SWITCHYARD_WASM_OPT).
#
# Idempotent: does nothing when the pinned versions are already installed.
set -euo pipefail

BINARYEN_VERSION=132.0.0
AXE_CORE_VERSION=4.14.1
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
wasm_opt="$tools/node_modules/.bin/wasm-opt"

version_of() {
    node -p "require('$tools/node_modules/$1/package.json').version" 2>/dev/null || true
}

mkdir -p "$tools"
# A private package.json keeps npm from walking up and treating the workspace as a package.
[[ -f "$tools/package.json" ]] || echo '{"private": true}' > "$tools/package.json"

installed="$(version_of binaryen)"
if [[ "$installed" == "$BINARYEN_VERSION" && -x "$wasm_opt" ]]; then
    echo "setup-tools: binaryen $installed already in $tools"
else
    npm install --prefix "$tools" --no-audit --no-fund --save-exact "binaryen@$BINARYEN_VERSION"
    "$wasm_opt" --version
fi

installed="$(version_of axe-core)"
if [[ "$installed" == "$AXE_CORE_VERSION" && -f "$tools/node_modules/axe-core/axe.min.js" ]]; then
    echo "setup-tools: axe-core $installed already in $tools"
else
    npm install --prefix "$tools" --no-audit --no-fund --save-exact "axe-core@$AXE_CORE_VERSION"
    echo "setup-tools: axe-core $(version_of axe-core) in $tools"
fi
