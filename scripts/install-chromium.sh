#!/usr/bin/env bash
# Debian's Chromium for the browser tests. Playwright drives this binary; it never downloads a browser.
set -euo pipefail
chromium="${CHROMIUM_PATH:-/usr/lib/chromium/chromium}"
if [ -x "$chromium" ]; then
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
echo "Installing Debian's chromium for the browser tests..."
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium > /dev/null
test -x "$chromium"
