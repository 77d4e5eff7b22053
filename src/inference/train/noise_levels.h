#pragma once
/// How training draws its noise levels (internal to fl::inference; exposed for tests).

#include <torch/torch.h>

#include "frameloom/inference/train.h"

namespace fl::inference {

/// The noise levels σ of one step's options.batch samples, drawn from `gen`: shift(u) with u ~ U(0, 1), or
/// for the low_noise_share of them u · kLowNoiseTop.
torch::Tensor draw_noise_levels(const TrainOptions& options, at::Generator& gen);

}  // namespace fl::inference
