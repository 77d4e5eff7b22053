#pragma once
/// Bridges safetensors files and torch tensors/modules (inference-internal; torch never leaves this module).

#include <torch/torch.h>

#include <functional>
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

/// How one weight format answers what filling a module needs (safetensors, .pth, sharded/renamed sources).
struct ModuleFill {
    std::string where;  ///< the file or folder named in errors
    /// The stored entry of a key, or nullptr.
    std::function<const TensorInfo*(const std::string& key)> find;
    /// Copies a found entry into `target` (shapes already checked) converting to its dtype.
    std::function<core::Result<void>(const std::string& key, const TensorInfo& info, torch::Tensor& target)> copy;
    /// Every key the source presents (for strict mode's "holds keys the model lacks").
    std::vector<std::string> keys;
    /// The file that holds a key, when it differs from `where` (sharded checkpoints); empty = "the file".
    std::function<std::string(const std::string& key)> file_of;
};

/// Fills every parameter and buffer of `module` from `fill` (key = prefix + name) with the errors of
/// load_module. The one place that walks a module's tensors for every weight format.
core::Result<void> fill_module(torch::nn::Module& module, const ModuleFill& fill, const std::string& prefix,
                               bool strict);

/// "[1536, 16, 1, 2, 2]"
std::string shape_text(c10::IntArrayRef shape);

/// A contiguous CPU copy of `t` as a blob for write_safetensors (F32, F16, BF16, I64 supported).
TensorBlob to_blob(const std::string& name, const torch::Tensor& t);

/// Every parameter and buffer of `module` as blobs, named as the module names them (checkpoint keys).
std::vector<TensorBlob> module_blobs(const torch::nn::Module& module, const std::string& prefix = "");

}  // namespace fl::inference
