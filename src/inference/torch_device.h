#pragma once
/// The LibTorch side of a resolved DevicePolicy, for the inference module's entry points.

#include <torch/torch.h>

#include "frameloom/inference/device.h"

namespace fl::inference {

/// Where a resolved policy's tensors go; on the CPU it also sets LibTorch's thread count to the policy's.
torch::Device use_device(const DevicePolicy& resolved);

}  // namespace fl::inference
