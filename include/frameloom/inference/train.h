#pragma once
/// Training a Wan-architecture model on the shapes world, in C++/LibTorch: data rendered on the fly,
/// flow-matching loss, AdamW, EMA, checkpoints that resume bit-exactly, a loss log.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "frameloom/core/cancel.h"
#include "frameloom/core/result.h"
#include "frameloom/core/shapes_world.h"
#include "frameloom/inference/device.h"
#include "frameloom/inference/model_store.h"

namespace fl::inference {

/// What to train and how.
struct TrainOptions {
    int steps = 1000;                ///< total optimiser steps (a resumed run continues up to this; the
                                     ///< learning-rate schedule spans them, so resume with the same N)
    int batch = 8;
    double learning_rate = 3e-4;
    double weight_decay = 0.01;
    double ema_decay = 0.995;
    double text_dropout = 0.1;       ///< share of samples trained with the empty prompt (for CFG)
    double reference_share = 0.2;    ///< share of steps whose samples carry reference images
    /// Share of the other steps' samples trained with their first frame given; the rest are text only,
    /// keyframes and extension in the proportions 8 : 3 : 5 (at 0.2: 40 %, 15 %, 25 %).
    double first_frame_share = 0.2;
    /// Share of steps that drill the motion words: every clip of the step is a red circle on a dark green
    /// background moving left, right, up or down (the four are training combinations; "still" is the one held
    /// out), so the prompt varies with the motion phrase alone and its pooled vector
    /// (WanDiTConfig::pooled_text) carries nothing else. 0 and 1 draw no coin, so runs resumed across a
    /// change between them stay reproducible.
    double motion_drill_share = 0.0;
    double shift = 3.0;              ///< σ is drawn as shift(u), u ~ U(0, 1), like the sampling schedule
    /// Share of samples whose σ is drawn uniformly below kLowNoiseTop instead, where the object is already
    /// placed and its edges and shape are drawn (a large shift leaves few samples there: at 12, 8 % below
    /// σ 0.5). 0 draws no coin, so earlier runs resume bit-exactly.
    double low_noise_share = 0.0;
    /// Caps the v-loss weight 1/σ² of x0-predicting models (in x0 terms) at this value, min-SNR style, so
    /// the rare near-clean samples do not outweigh the noisy ones where an object's place and shape are
    /// decided; 0 keeps the plain v-loss. Resuming with another cap restarts AdamW's moments.
    double loss_cap = 5.0;
    /// Weight of the object's pixels in the loss, the background's being 1 (1 = plain MSE).
    double object_weight = 1.0;
    uint64_t seed = 0;
    int width = 64, height = 64, frames = 16;
    int checkpoint_every = 100;      ///< steps between checkpoints (and at the end)
    std::filesystem::path checkpoint;  ///< training state file written atomically (.safetensors)
    std::filesystem::path resume;      ///< state to continue from (empty = start from the card's weights)
    std::filesystem::path loss_log;    ///< CSV "step,loss,seconds" appended per step (empty = none)
    DevicePolicy policy;
    core::ProgressFn progress;       ///< label carries the running loss
    core::CancelFn cancel;           ///< checked before every step; a checkpoint is written on cancel
};

/// Top of the noise levels drawn for TrainOptions::low_noise_share.
inline constexpr double kLowNoiseTop = 0.5;

/// What a training sample is conditioned on (frame-mask conditioning): nothing but the prompt, its first
/// frame, its first and last frames, its first frames (extension), or reference images of its object.
enum class TrainingMode { Text, FirstFrame, Keyframes, Extend, Reference };

/// One clip of a training step, before it is rendered.
struct TrainingSample {
    TrainingMode mode = TrainingMode::Text;
    core::shapes::Scene scene;
    std::string prompt;                             ///< a paraphrase, or "" for the CFG dropout share
    int given_frames = 0;                           ///< Extend: the clip's first frames that are given
    std::vector<core::shapes::Scene> references;   ///< Reference: still scenes of the object (1 or 2)
};

/// The clips of one training step, drawn from generators seeded by (seed, step), so a resumed run draws the
/// same batches as an uninterrupted one.
struct TrainingStepPlan {
    bool motion_drill = false;    ///< every clip is a red circle on dark green (TrainOptions::motion_drill_share)
    bool reference_step = false;  ///< every clip carries reference images (TrainOptions::reference_share)
    std::vector<TrainingSample> samples;  ///< options.batch of them
};
TrainingStepPlan plan_training_step(const TrainOptions& options, int step);

/// How a training run went.
struct TrainResult {
    int first_step = 0;   ///< step the run started from (> 0 when resumed)
    int last_step = 0;    ///< steps completed in total
    double last_loss = 0.0;
    double mean_loss_last_100 = 0.0;
    double seconds = 0.0;
};

/// Trains the model described by `card` (its files give the starting weights and the architecture).
core::Result<TrainResult> train_shapes(const ModelCard& card, const TrainOptions& options);

/// How much a shapes model listens to each kind of word of its prompt. For rendered clips of moving objects
/// (text only, no frames given), the x0 error of the DiT's prediction at noise level σ with the canonical
/// prompt, and with one word swapped (colour, shape, motion to its opposite, background) or no prompt at
/// all. A word the model uses costs error when swapped; one it ignores costs nothing. The same noise is used
/// for every prompt, so the differences are the prompt's alone.
struct WordSensitivity {
    double sigma = 0.0;
    double correct = 0.0;  ///< mean squared error of the predicted clean clip, latent units
    double colour = 0.0, shape = 0.0, motion = 0.0, background = 0.0, empty = 0.0;
};

/// One row per σ (each in (0, 1]) over `clips` clips drawn with `seed`, at the card's default size, where
/// `policy` says (its threads on the CPU). The noise is drawn on the CPU, so the figures do not depend on it.
/// With `first_frame`, each clip's first frame is given (image-to-video) and the error counts the other
/// frames only: where the object starts is then known, and the motion word alone says where it goes.
core::Result<std::vector<WordSensitivity>> measure_word_sensitivity(const ModelCard& card, int clips,
                                                                    const std::vector<double>& sigmas,
                                                                    uint64_t seed,
                                                                    const DevicePolicy& policy = {},
                                                                    bool first_frame = false);

/// Writes the EMA weights of a training state as the card's model files (DiT and text encoder),
/// marking the card trained and recording `command`, steps and final loss in it.
core::Result<ModelCard> export_trained_model(const ModelCard& card, const std::filesystem::path& checkpoint,
                                             const std::string& command);

}  // namespace fl::inference
