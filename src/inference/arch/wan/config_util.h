#pragma once
/// Helpers shared by the configs of the Wan architectures (DiT, CLIP, VAE), which are read from the
/// weights' shapes and the safetensors metadata.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fl::inference::wan {

/// Tensor name → shape, as a file's header lists them.
using ShapeMap = std::map<std::string, std::vector<int64_t>>;

/// "[1536, 16, 1, 2, 2]"
std::string shape_str(const std::vector<int64_t>& shape);

/// A metadata field as text: the key itself, else the same field inside a "config" JSON object
/// (as the reference goldens carry it). Numbers and booleans come back as their JSON text.
std::optional<std::string> meta_field(const std::map<std::string, std::string>& metadata, const std::string& key);

}  // namespace fl::inference::wan
