#pragma once
/// Helpers shared by the configs of the Wan architectures (DiT, CLIP, VAE), which are read from the
/// weights' shapes and the safetensors metadata.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "frameloom/core/result.h"
#include "frameloom/inference/safetensors.h"
#include "inference/weight_source.h"

namespace fl::inference::wan {

/// Tensor name → shape, as a file's header lists them.
using ShapeMap = std::map<std::string, std::vector<int64_t>>;

/// "[1536, 16, 1, 2, 2]"
std::string shape_str(const std::vector<int64_t>& shape);

/// A metadata field as text: the key itself, else the same field inside a "config" JSON object
/// (as the reference goldens carry it). Numbers and booleans come back as their JSON text.
std::optional<std::string> meta_field(const std::map<std::string, std::string>& metadata, const std::string& key);

/// Config::from_shapes over a file's header, with the file named in any error (every architecture's
/// from_weights is this).
template <class Config>
core::Result<Config> config_from_file(const SafeTensorsFile& file, const std::string& prefix) {
    ShapeMap shapes;
    for (const auto& info : file.tensors()) shapes[info.name] = info.shape;
    auto c = Config::from_shapes(shapes, file.metadata(), prefix);
    if (!c) return core::fail(c.message() + " (in " + file.path().string() + ")");
    return c;
}

/// Config::from_shapes over every file of a weight source (after its prefix strips and renames).
template <class Config>
core::Result<Config> config_from_source(const WeightSource& source, const std::string& prefix) {
    auto c = Config::from_shapes(source.shapes(), source.metadata(), prefix);
    if (!c) return core::fail(c.message() + " (in " + source.path().string() + ")");
    return c;
}

}  // namespace fl::inference::wan
