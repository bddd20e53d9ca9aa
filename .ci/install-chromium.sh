#!/usr/bin/env bash
# Installs headless Chromium for the UI tests (e2e/ui_test.go) when it is missing.
# Idempotent: does nothing when $CHROME_PATH or a known Chromium binary exists.
set -euo pipefail

if [ -n "${CHROME_PATH:-}" ] && [ -x "${CHROME_PATH}" ]; then
  echo "chromium: using CHROME_PATH=${CHROME_PATH}"
  exit 0
fi
for p in /usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome /usr/bin/google-chrome-stable; do
  if [ -x "$p" ]; then
    echo "chromium: found $p ($("$p" --version 2>/dev/null || echo 'version unknown'))"
    exit 0
  fi
done

if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium: not installed and apt-get is not available; install Chromium and set CHROME_PATH" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
echo "chromium: installing the Debian package"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
/usr/bin/chromium --version
