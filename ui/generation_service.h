#pragma once
/// Runs one shot generation for the studio's job queue: load (cached) → generate → encode → hash.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "frameloom/consistency/ranking.h"
#include "frameloom/core/job.h"
#include "frameloom/core/result.h"
#include "frameloom/core/shot.h"
#include "frameloom/inference/device.h"
#include "frameloom/inference/generator.h"
#include "frameloom/inference/model_store.h"

namespace fl::studio {

/// What one generation job should produce.
struct GenerationSpec {
    core::GenerationParams params;
    std::filesystem::path target;  ///< absolute path of the MP4 to write
    std::filesystem::path media_base;  ///< folder that relative conditioning paths are relative to (the project's)
    /// With conditioning.extend: run the consistency stage's colour correction on the continuation (matched
    /// to the source, with a ramp at the seam), as `frameloom generate --extend` does; false skips it.
    bool correct_extension = true;
    /// Optional: receives the running generation's step previews on the worker thread, thinned by
    /// throttle_previews to one per kPreviewInterval (the last step always comes through).
    inference::StepPreviewFn step_preview;
};

/// The least time between two step previews handed to the GUI (decoding is cheap; painting is not free).
inline constexpr std::chrono::milliseconds kPreviewInterval{200};

/// Wraps `sink` so it sees the first step, then a step only once `interval` has passed since the last
/// one it saw, and always the last step (so a finished job shows its final estimate).
inference::StepPreviewFn throttle_previews(inference::StepPreviewFn sink, std::chrono::milliseconds interval);

/// What a finished generation job hands back to the GUI thread.
struct GeneratedTake {
    core::Take take;          ///< id empty (the GUI picks one), file absolute
    int64_t frame_count = 0;  ///< frames in the written clip, at the take's rate
    /// Consistency scores of the clip (measured on the worker after encoding); empty when measuring failed.
    std::optional<consistency::TakeScores> scores;
    std::string scores_error;  ///< why there are no scores
};

/// Keeps loaded generators between jobs (keyed by model id) so the second take starts at once.
/// Called from the job queue's worker thread; one generation at a time.
class GenerationService {
public:
    explicit GenerationService(inference::ModelStore store, inference::DevicePolicy policy = {});

    /// Generates `spec` reporting to `job`, then measures the clip (fl::consistency: temporal metrics, and
    /// identity against the references when there are any); on error or cancellation nothing is left at
    /// spec.target. A failed measurement leaves the take without scores, it does not fail the job.
    core::Result<GeneratedTake> run(const GenerationSpec& spec, core::JobContext& job);

    /// Number of generators held (for tests).
    size_t cached_models() const;

private:
    core::Result<inference::Generator*> generator_for(const std::string& model, core::JobContext& job);

    inference::ModelStore store_;
    inference::DevicePolicy policy_;
    mutable std::mutex mutex_;
    std::map<std::string, std::unique_ptr<inference::Generator>> generators_;
};

}  // namespace fl::studio
