#pragma once
/// Process set-up for fast CPU inference, called first thing in main() of every executable.

namespace fl::inference {

/// Debian's LibTorch runs element-wise ops on an OpenMP pool and matrix products on OpenBLAS's own
/// threads. With OpenMP's default active waiting the two pools fight over the cores (measured: 2.8× slower
/// sampling steps on 2 cores), and glibc's mmap threshold makes every large temporary a fresh mapping
/// (page faults on each op). This sets OMP_WAIT_POLICY=PASSIVE and, because OpenMP reads it only when it
/// loads (before main), re-executes the program once with it; then raises malloc's mmap/trim thresholds.
/// A user's own OMP_WAIT_POLICY is respected. Never returns an error: on any failure it just continues.
void prepare_process(int argc, char** argv);

}  // namespace fl::inference
