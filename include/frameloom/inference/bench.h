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
