#!/usr/bin/env bash
# Quick start, command 1: set up, build Release, and generate a first shot with the embedded default model.
# Prints the path of the MP4 it wrote.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
mkdir -p out
build/bin/frameloom generate \
  --prompt "a red circle moving left on a black background" \
  --seed 1 -o out/first-shot.mp4
