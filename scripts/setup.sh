#!/usr/bin/env bash
# Installs what Vigil needs from Debian (ffmpeg, mosquitto, the GStreamer RTSP server the tests stream
# from, Chromium for the status-page tests) and the npm dependencies. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(ffmpeg mosquitto mosquitto-clients chromium shellcheck
  python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-tools
  gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The Debian mosquitto package starts a system broker on 1883; tests start their own on free ports.
# The variable as well as .npmrc's key: npm warns that it will stop passing unknown .npmrc keys to scripts.
[ -d node_modules ] && [ node_modules -nt package-lock.json ] || ONNXRUNTIME_NODE_INSTALL=skip npm ci
