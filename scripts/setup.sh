#!/usr/bin/env bash
# Installs what Frameloom needs on Debian 12 (only what is missing), then configures and builds Release
# into build/. Idempotent: a second run installs nothing and rebuilds only what changed.
#   scripts/setup.sh [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  qt6-base-dev qt6-multimedia-dev libgl-dev
  libtorch-dev libopenblas0-pthread
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev libavfilter-dev
  libopencv-dev opencv-data libspdlog-dev nlohmann-json3-dev libgtest-dev libgmock-dev
  libsentencepiece-dev
  xvfb xauth
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "frameloom setup: installing ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "frameloom setup: run as root or install sudo" >&2; exit 1; }
    SUDO="sudo"
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian's LibTorch runs matrix products through libblas.so.3: make sure that is OpenBLAS (≈75× the
# reference BLAS). The alternative is only switched when it points elsewhere.
blas_alt=libblas.so.3-x86_64-linux-gnu
want=/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3
if [ -e "$want" ] && [ "$(readlink -f /etc/alternatives/$blas_alt 2>/dev/null)" != "$(readlink -f $want)" ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO update-alternatives --set $blas_alt "$want" >/dev/null
fi

[ "${1:-}" = "--no-build" ] && exit 0

jobs=$(nproc)
if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build build -j "$jobs"
