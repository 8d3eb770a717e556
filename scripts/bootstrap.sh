#!/usr/bin/env bash
# Bootstrap, part 1 of 2: only what must happen before Node 24 exists.
#   - Node (NODE_VERSION in stack/versions.env) from the npm registry package node-<os>-<arch>
#     (nodejs.org is not reachable on every machine we support; the npm registry is).
#   - pnpm (version in package.json "packageManager") from the npm registry.
#   - the workspace's dependencies (pnpm install --frozen-lockfile), so part 2 can use zx.
# Then it hands over to scripts/bootstrap.ts (zx), which sees to the Docker engine.
# Safe to run anywhere and as often as you like: it only acts on what is missing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DRY_RUN=0
for arg in "$@"; do
  case "$arg" in
    --dry-run) DRY_RUN=1 ;;
    -h|--help)
      cat <<'USAGE'
Usage: bash scripts/bootstrap.sh [--dry-run] [--help]

Installs what this repository needs on this machine, and only what is missing:
Node 24 and the pinned pnpm (from the npm registry), the workspace dependencies,
then a Docker engine with Compose v2 (Debian, as root) via scripts/bootstrap.ts.

  --dry-run   print what would be done, change nothing
Environment:
  BOOTSTRAP_PREFIX   where Node and pnpm go (default /usr/local as root, ~/.local otherwise)
USAGE
      exit 0 ;;
    *) ;; # the rest is for scripts/bootstrap.ts
  esac
done

log() { printf 'bootstrap: %s\n' "$*"; }
die() { printf 'bootstrap: error: %s\n' "$*" >&2; exit 1; }

NODE_VERSION=$(sed -n 's/^NODE_VERSION=\([0-9.]*\).*/\1/p' "$ROOT/stack/versions.env")
[ -n "$NODE_VERSION" ] || die "stack/versions.env has no NODE_VERSION=X.Y.Z pin"
NODE_MAJOR=${NODE_VERSION%%.*}
PNPM_VERSION=$(sed -n 's/.*"packageManager": *"pnpm@\([0-9.]*\).*/\1/p' "$ROOT/package.json")
[ -n "$PNPM_VERSION" ] || die "package.json has no \"packageManager\": \"pnpm@X.Y.Z\" pin"

if [ -n "${BOOTSTRAP_PREFIX:-}" ]; then PREFIX=$BOOTSTRAP_PREFIX
elif [ "$(id -u)" = 0 ]; then PREFIX=/usr/local
else PREFIX=$HOME/.local; fi

# --- Node -----------------------------------------------------------------------------------------
node_major() { command -v node >/dev/null 2>&1 && node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

case "$(uname -s)" in Linux) os=linux ;; Darwin) os=darwin ;; *) os=unsupported ;; esac
case "$(uname -m)" in x86_64|amd64) arch=x64 ;; aarch64|arm64) arch=arm64 ;; *) arch=unsupported ;; esac

have_major=$(node_major)
if [ "$have_major" -ge "$NODE_MAJOR" ]; then
  log "node $(node --version) at $(command -v node): ok (need >= $NODE_MAJOR), nothing to do"
else
  pkg="node-$os-$arch@$NODE_VERSION"
  dest="$PREFIX/lib/nodejs/node-v$NODE_VERSION-$os-$arch"
  if [ "$have_major" = 0 ]; then why="no node on PATH"; else why="node $(node --version) is too old"; fi
  [ "$os" != unsupported ] && [ "$arch" != unsupported ] ||
    die "$why, and there is no Node package for $(uname -s)/$(uname -m): install Node >= $NODE_MAJOR yourself"
  command -v npm >/dev/null 2>&1 ||
    die "$why, and no npm to fetch $pkg with: install Node >= $NODE_MAJOR yourself (https://nodejs.org/en/download)"
  if [ "$DRY_RUN" = 1 ]; then
    log "would install Node $NODE_VERSION ($why): npm pack $pkg into $dest, link $PREFIX/bin/node"
  else
    log "installing Node $NODE_VERSION ($why) from npm package $pkg into $dest"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    # npm pack checks the tarball against the registry's integrity hash.
    (cd "$tmp" && npm pack --silent "$pkg" >/dev/null) || die "npm pack $pkg failed (is the npm registry reachable?)"
    mkdir -p "$dest.partial" "$PREFIX/bin"
    tar -xzf "$tmp"/node-*.tgz -C "$dest.partial" --strip-components=1
    rm -rf "$dest" && mv "$dest.partial" "$dest"
    ln -sfn "$dest/bin/node" "$PREFIX/bin/node"
    hash -r
    [ "$(node_major)" -ge "$NODE_MAJOR" ] ||
      die "installed $dest/bin/node but '$(command -v node)' comes first on PATH: put $PREFIX/bin before it"
    log "node $(node --version) installed at $PREFIX/bin/node"
  fi
fi

# --- pnpm -----------------------------------------------------------------------------------------
have_pnpm=$(command -v pnpm >/dev/null 2>&1 && pnpm --version 2>/dev/null || true)
if [ "$have_pnpm" = "$PNPM_VERSION" ]; then
  log "pnpm $have_pnpm at $(command -v pnpm): ok, nothing to do"
elif [ "$DRY_RUN" = 1 ]; then
  log "would install pnpm $PNPM_VERSION (have: ${have_pnpm:-none}) with npm into $PREFIX"
else
  log "installing pnpm $PNPM_VERSION (have: ${have_pnpm:-none}) into $PREFIX"
  npm install --global --silent --no-audit --no-fund --prefix "$PREFIX" "pnpm@$PNPM_VERSION" ||
    die "npm install pnpm@$PNPM_VERSION failed (is the npm registry reachable?)"
  hash -r
  [ "$(pnpm --version 2>/dev/null)" = "$PNPM_VERSION" ] ||
    die "installed pnpm $PNPM_VERSION into $PREFIX/bin but '$(command -v pnpm)' comes first on PATH: put $PREFIX/bin before it"
fi

# --- workspace dependencies -----------------------------------------------------------------------
# shellcheck source=scripts/lib/host/node-env.sh
. "$ROOT/scripts/lib/host/node-env.sh"
if [ "$DRY_RUN" = 1 ]; then
  log "would run: pnpm install --frozen-lockfile (a no-op when node_modules matches the lockfile)"
else
  log "dependencies: pnpm install --frozen-lockfile (a no-op when node_modules matches the lockfile)"
  (cd "$ROOT" && pnpm install --frozen-lockfile --reporter=silent) || die "pnpm install --frozen-lockfile failed"
fi

# --- part 2 (zx): the Docker engine ----------------------------------------------------------------
if [ "$DRY_RUN" = 1 ] && { [ "$(node_major)" -lt "$NODE_MAJOR" ] || [ ! -d "$ROOT/node_modules/zx" ]; }; then
  log "would run: node scripts/bootstrap.ts (Docker engine and Compose v2)"
  exit 0
fi
exec node "$ROOT/scripts/bootstrap.ts" "$@"
