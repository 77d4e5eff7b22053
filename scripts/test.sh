#!/usr/bin/env bash
# Quick start, command 2: set up, build Release (with tests), and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cd build
ctest --output-on-failure -j "$(nproc)" --timeout 600
