#pragma once
/// Bridges safetensors files and torch tensors/modules (inference-internal; torch never leaves this module).

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "frameloom/core/result.h"
#include "frameloom/inference/safetensors.h"

namespace fl::inference {

/// Copies one stored tensor into an owned CPU tensor of its stored dtype (F32, F16, BF16, I64, ...).
core::Result<torch::Tensor> read_tensor(const SafeTensorsFile& file, const TensorInfo& info);

/// Same, by name; "tensor 'x' not found in <file>" when absent.
core::Result<torch::Tensor> read_tensor(const SafeTensorsFile& file, const std::string& name);

/// Copies every parameter and buffer of `module` from `file` (key = prefix + parameter name), converting
/// dtype to the parameter's dtype. Missing keys or shape mismatches are errors that name the key.
/// Keys in the file that the module lacks are ignored unless `strict`.
core::Result<void> load_module(torch::nn::Module& module, const SafeTensorsFile& file,
                               const std::string& prefix = "", bool strict = true);

/// A contiguous CPU copy of `t` as a blob for write_safetensors (F32, F16, BF16, I64 supported).
TensorBlob to_blob(const std::string& name, const torch::Tensor& t);

/// Every parameter and buffer of `module` as blobs, named as the module names them (checkpoint keys).
std::vector<TensorBlob> module_blobs(const torch::nn::Module& module, const std::string& prefix = "");

}  // namespace fl::inference
