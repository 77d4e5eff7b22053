#pragma once
/// The generation pipeline: prompt → text encoder → flow-matching sampler over the DiT → codec decode.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "frameloom/core/cancel.h"
#include "frameloom/core/conditioning.h"
#include "frameloom/core/frame.h"
#include "frameloom/core/result.h"
#include "frameloom/core/shot.h"
#include "frameloom/inference/device.h"
#include "frameloom/inference/model_store.h"

namespace fl::inference {

/// Receives the model's current estimate of the clean clip after sampling step `step` (1-based) of
/// `steps`: the middle frame of the clip at the requested size, as a one-frame video at the clip's rate.
using StepPreviewFn = std::function<void(int step, int steps, const core::Video& preview)>;

/// One generation: the parameters plus callbacks that belong to this request only.
struct GenerateRequest {
    core::GenerationParams params;
    core::ProgressFn progress;  ///< called after text encoding, after each step and after decoding
    core::CancelFn cancel;      ///< checked before every step
    /// The decoded pixels of params.conditioning (media::load_conditioning fills it from the paths). A
    /// request whose params name conditioning files but whose media is empty is refused.
    core::ConditioningMedia media;
    /// Optional: called after each sampling step (on the generating thread) with the clean-video estimate
    /// x0 = x_t − σ·v decoded through the codec; known frames of frame-mask models are exact. Costs one
    /// one-frame decode per step, and nothing when unset.
    StepPreviewFn step_preview;
};

/// Timings of the last generation (for `frameloom bench` and the studio's job details).
struct GenerateStats {
    double load_seconds = 0.0;
    double text_encode_seconds = 0.0;
    double sampling_seconds = 0.0;
    double seconds_per_step = 0.0;
    double decode_seconds = 0.0;
    int64_t tokens = 0;            ///< DiT sequence length
    int64_t peak_rss_bytes = 0;    ///< process peak resident memory after the run
};

/// A loaded model ready to generate. Not thread-safe: one generation at a time.
class Generator {
public:
    /// Loads every file named by the card onto the policy's device.
    static core::Result<std::unique_ptr<Generator>> load(const ModelCard& card, const DevicePolicy& policy);
    virtual ~Generator() = default;

    virtual const ModelCard& card() const = 0;
    virtual const DevicePolicy& policy() const = 0;
    /// Validates the request against the model (sizes, tasks), then generates.
    /// Same params and seed → bit-identical frames on CPU.
    virtual core::Result<core::Video> generate(const GenerateRequest& request, GenerateStats* stats = nullptr) = 0;
};

/// Peak resident set size of this process in bytes (VmHWM), 0 if unknown.
int64_t peak_rss_bytes();

}  // namespace fl::inference

namespace fl::inference {

/// Generation parameters filled with a model card's defaults (prompt empty, seed 0, model = card id).
core::GenerationParams default_params(const ModelCard& card);

}  // namespace fl::inference
