#!/usr/bin/env bash
# Takes the documentation screenshots of the studio on the demo project, under Xvfb:
#   docs/screenshots/studio-main-window.png    the whole window (after generating a variation of the first
#                                              shot, so the jobs panel shows its last step preview)
#   docs/screenshots/studio-storyboard.png     the storyboard panel
#   docs/screenshots/studio-timeline.png       the timeline, with the cut badges of Timeline > Check cuts
#   docs/screenshots/studio-export-dialog.png  File > Export
# The studio does the grabbing itself when FL_SCREENSHOT_DIR is set (ui/main.cpp) and quits when done.
# Usage: scripts/screenshots.sh [BUILD_DIR] [OUT_DIR]     (defaults: build, docs/screenshots)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="$(realpath -m "${1:-$root/build}")"
out="$(realpath -m "${2:-$root/docs/screenshots}")"
studio="$build/bin/frameloom-studio"
[ -x "$studio" ] || { echo "screenshots: no $studio: cmake --build $build --target frameloom-studio" >&2; exit 1; }
command -v xvfb-run >/dev/null || { echo "screenshots: xvfb-run not found: install xvfb (scripts/setup.sh does)" >&2; exit 1; }

# A copy of the demo: the generation adds a take and media, which must not land in docs/demo. A fixed
# folder, so the paths the pictures show (status bar, export target) read the same on every run.
work="${TMPDIR:-/tmp}/frameloom-demo"
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
cp -r "$root/docs/demo/." "$work/"
mkdir -p "$out"

cd "$root"  # the studio finds the default model in ./models
unset QT_QPA_PLATFORM
FL_SCREENSHOT_DIR="$out" timeout 300 xvfb-run -a -s "-screen 0 1600x1000x24" \
  "$studio" "$work/shapes-demo.flproj"

# Smaller files when a PNG optimiser is at hand (the pictures are the same).
if command -v optipng >/dev/null; then
  optipng -quiet -o2 "$out"/studio-{main-window,storyboard,timeline,export-dialog}.png
fi
ls -l "$out"/studio-{main-window,storyboard,timeline,export-dialog}.png
