#!/usr/bin/env bash
# Makes sure the console's browser tests (internal/console) have what they
# need: Debian's Chromium, never a browser a test tool downloads, and
# axe-core (the accessibility checker, tools/axe, pinned in its
# package-lock.json) from the npm registry. Installs Chromium's Debian
# package when it can (as root, or with passwordless sudo); otherwise says
# what to install.
set -euo pipefail
cd "$(dirname "$0")/.."

ensure_chromium() {
  if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || [ -n "${LIAISON_CHROMIUM:-}" ]; then
    return 0
  fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo="sudo -n"
    else
      echo "Chromium not found. Install the Debian package 'chromium' (apt-get install chromium) and run again." >&2
      exit 1
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "Chromium not found and apt-get is unavailable. Install Chromium and set LIAISON_CHROMIUM to its path." >&2
    exit 1
  fi
  echo "Installing Chromium for the console's browser tests (Debian package 'chromium')..." >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
  command -v chromium >/dev/null 2>&1 || { echo "installed 'chromium' but it is still missing" >&2; exit 1; }
}

ensure_axe() {
  if [ -f tools/axe/node_modules/axe-core/axe.min.js ]; then
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "axe-core is missing (tools/axe/node_modules) and npm is not installed. Install Node.js with npm" >&2
    echo "(Debian: apt-get install npm), then run: npm ci --prefix tools/axe --no-audit --no-fund" >&2
    exit 1
  fi
  echo "Installing axe-core for the console's accessibility test (npm ci --prefix tools/axe)..." >&2
  npm ci --prefix tools/axe --no-audit --no-fund >/dev/null
  [ -f tools/axe/node_modules/axe-core/axe.min.js ] || { echo "npm ci ran but tools/axe/node_modules/axe-core/axe.min.js is still missing" >&2; exit 1; }
}

ensure_chromium
ensure_axe
