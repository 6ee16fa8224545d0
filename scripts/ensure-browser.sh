#!/usr/bin/env bash
# Makes sure Debian's Chromium is on this machine for the console's browser
# tests (internal/console). Installs the Debian package when it can (as root,
# or with passwordless sudo); otherwise says what to install. Never a browser
# a test tool downloads.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
sudo=""
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
