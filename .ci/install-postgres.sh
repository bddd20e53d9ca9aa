#!/usr/bin/env bash
# Installs PostgreSQL server binaries (initdb, pg_ctl, postgres) for the pgstore and replica
# tests, which start their own throwaway server (internal/store/pgstore/pgtest). Does nothing
# when they are already there, so it is safe to run on every CI run.
set -euo pipefail

have_postgres() {
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null
}

if have_postgres; then
  echo "PostgreSQL already installed: $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tr '\n' ' ')"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends postgresql

if ! have_postgres; then
  echo "install-postgres: postgresql installed but no initdb found" >&2
  exit 1
fi
echo "PostgreSQL installed: $(ls -d /usr/lib/postgresql/*/bin | tr '\n' ' ')"
