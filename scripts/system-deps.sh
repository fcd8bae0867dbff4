#!/usr/bin/env bash
# Debian packages the test suite drives for real: Chromium (and a CJK font) for the browser
# tests, Mosquitto and NATS for the messaging tests. Installs only what is missing; needs root (as on CI and dev boxes).
set -euo pipefail
packages=(chromium mosquitto nats-server)
# CJK fonts: fonts-wqy-microhei for the PDFs (services supervision, trace labels);
# fonts-wqy-zenhei because headless Chromium has no CJK font of its own and the Chinese
# console would render as boxes in the screenshot tests.
packages+=(fonts-wqy-microhei fonts-wqy-zenhei)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "system-deps: missing ${missing[*]}; install them with apt-get as root" >&2
  exit 1
fi
echo "system-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The packaged brokers must not hold the default ports: the tests start their own on loopback.
for svc in mosquitto nats-server; do
  (systemctl disable --now "$svc" || service "$svc" stop) >/dev/null 2>&1 || true
done
