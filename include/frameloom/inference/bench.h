#pragma once
/// Timing the generation pipeline (for `frameloom bench` and frameloom-bench on machines without FFmpeg).

#include <string>
#include <vector>

#include "frameloom/core/frame.h"
#include "frameloom/core/result.h"
#include "frameloom/core/shot.h"
#include "frameloom/inference/device.h"
#include "frameloom/inference/generator.h"
#include "frameloom/inference/model_store.h"

namespace fl::inference {

/// Measured figures: each timing is the median over the timed runs (after one warm-up run).
struct BenchReport {
    std::string model;
    std::string device;
    core::GenerationParams params;
    int runs = 0;
    GenerateStats median;        ///< medians of every timing; peak RSS is the maximum
    double total_seconds = 0.0;  ///< median wall time of one generation
    core::Video video;           ///< the last generated clip (callers time encoding on it)
};

/// Loads the model, runs one warm-up and `runs` timed generations of `params`.
core::Result<BenchReport> bench_generation(const ModelCard& card, const DevicePolicy& policy,
                                           const core::GenerationParams& params, int runs);

/// A Markdown table row block describing the report (shared by the CLI and frameloom-bench).
std::string format_bench(const BenchReport& report, const std::vector<std::pair<std::string, double>>& extra = {});

}  // namespace fl::inference

namespace fl::inference {

/// The released Wan configurations timed with random weights (no checkpoint needed): what a step, the text
/// encoder and the VAE decode cost at a given size, and how much memory each needs.
struct WanBenchOptions {
    std::string config = "wan2.1-1.3b";  ///< wan2.1-1.3b, wan2.1-14b or wan2.2-5b
    int frames = 17;                     ///< video frames (4n+1)
    int width = 256, height = 256;       ///< multiples of the VAE stride × 2
    int steps = 2;                       ///< timed DiT steps (after one warm-up)
    bool text = true;                    ///< time umT5-XXL (bf16, CPU, as the pipeline runs it)
    bool dit = true;                     ///< time the DiT steps
    bool decode = true;                  ///< time the VAE decode
};

struct WanBenchReport {
    std::string config, device;
    WanBenchOptions options;
    int64_t tokens = 0, dit_parameters = 0;
    double matmul_tflops = 0.0;   ///< a large square product's rate on the device, in the DiT's precision
    double text_seconds = 0.0;    ///< prompt + negative, 512 tokens each
    int64_t text_peak_bytes = 0;  ///< host peak RSS while the encoder lived
    double step_seconds = 0.0;    ///< one sampling step: the DiT on the CFG pair (median)
    double step_tflops = 0.0;     ///< the step's matrix-product work per second
    int64_t dit_peak_bytes = 0;   ///< host peak RSS while the DiT lived (device memory not included)
    double decode_seconds = 0.0;  ///< VAE decode, latent frame by latent frame (the pipeline's way)
    int64_t decode_peak_bytes = 0;
    int vae_tile = 0;  ///< the decode's tile size in pixels (0: whole frames)
};

/// Builds each part at the released size in turn (text encoder, DiT, VAE), fills it with small random
/// weights, times it, and frees it before the next, resetting the peak-memory mark in between.
core::Result<WanBenchReport> bench_wan_config(const WanBenchOptions& options, const DevicePolicy& policy);

/// A Markdown table of the report.
std::string format_wan_bench(const WanBenchReport& report);

}  // namespace fl::inference
