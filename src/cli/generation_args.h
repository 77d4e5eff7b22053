#pragma once
/// Command-line options shared by the commands that run a model: --device/--precision/--threads and the
/// generation settings (--steps, --guidance, --shift, --sampler, ... and the conditioning options).

#include "cli/args.h"
#include "frameloom/core/shot.h"
#include "frameloom/inference/device.h"
#include "frameloom/inference/model_store.h"

namespace fl::cli {

/// --device, --precision and --threads as a policy (Auto device and precision, all cores when absent).
core::Result<inference::DevicePolicy> policy_from_args(const Args& args);

/// The model's defaults overridden by whichever generation options `args` holds; checked as a whole
/// (GenerationParams::validate) unless `validate` is false, for callers that fill in the prompt themselves.
core::Result<core::GenerationParams> params_from_args(const Args& args, const inference::ModelCard& card,
                                                      bool validate = true);

}  // namespace fl::cli
