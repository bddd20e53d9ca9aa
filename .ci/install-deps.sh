#!/usr/bin/env bash
# Installs what the test suite needs beyond Go, only when it is missing: Chromium (UI tests),
# PostgreSQL (pgstore and the multi-replica test), Node.js and npm (real-client compatibility
# tests). Idempotent and quick when everything is present. Uses apt-get (as root, or via sudo).
set -euo pipefail
cd "$(dirname "$0")"
for script in install-chromium.sh install-postgres.sh install-node.sh; do
  if [ -f "$script" ]; then
    bash "$script"
  fi
done
