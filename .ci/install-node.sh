#!/usr/bin/env bash
# Installs Node.js and npm for the real-client compatibility tests (e2e/clients) when missing.
set -euo pipefail
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  major=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$major" -lt 20 ]; then
    echo "node: found $(node --version), but the compatibility suite needs Node.js 20 or newer" >&2
    exit 1
  fi
  echo "node: found $(node --version), npm $(npm --version)"
  exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "node: installing the Debian packages nodejs and npm"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "node: the distribution's Node.js is $(node --version); the compatibility suite needs 20 or newer" >&2
  exit 1
fi
