#!/usr/bin/env bash
# Makes sure the PostgreSQL server binaries (initdb, postgres) and psql are on
# this machine: Liaison runs its own private cluster from them. Installs
# Debian's packages when it can (as root, or with passwordless sudo);
# otherwise says which package to install.
set -euo pipefail

have_server() {
  command -v initdb >/dev/null 2>&1 && command -v postgres >/dev/null 2>&1 && return 0
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && [ -x "$d/postgres" ] && return 0
  done
  return 1
}

if have_server && command -v psql >/dev/null 2>&1; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo -n"
  else
    echo "PostgreSQL server binaries not found. Install the Debian package 'postgresql' (apt-get install postgresql) and run again." >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "PostgreSQL server binaries not found and apt-get is unavailable. Install PostgreSQL 13 or newer (package 'postgresql') and run again." >&2
  exit 1
fi

echo "Installing PostgreSQL server binaries (Debian package 'postgresql')..." >&2
# Liaison starts its own cluster; don't let the package create and start one.
$sudo mkdir -p /etc/postgresql-common
echo "create_main_cluster = false" | $sudo tee /etc/postgresql-common/createcluster.conf >/dev/null
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql postgresql-client >/dev/null
have_server || { echo "installed 'postgresql' but initdb/postgres are still missing" >&2; exit 1; }
