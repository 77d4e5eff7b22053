#pragma once
/// Wan DiT checkpoints in the layouts users have: original keys, ComfyUI's `model.diffusion_model.` prefix,
/// diffusers `WanTransformer3DModel` names (reference/wan.md §1.9), any of them single, sharded or fp8-scaled.

#include <filesystem>

#include "frameloom/core/result.h"
#include "inference/weight_source.h"

namespace fl::inference::wan {

/// diffusers → original key renames, applied as successive substring replacements (the reverse of
/// diffusers' convert_wan_to_diffusers.py, ordered so no rename sees another's output by mistake).
const KeyRenames& diffusers_to_original_renames();

/// True when `names` look like diffusers' WanTransformer3DModel (condition_embedder.*, proj_out, attn1/2).
bool is_diffusers_layout(const WeightSource& source);

/// Opens a Wan DiT checkpoint (file, index.json or folder) and presents it under the original key names:
/// a prefix before `patch_embedding.weight` is stripped, diffusers names are mapped back. A Wan config.json
/// in the checkpoint's folder (the release's `WanModel` or diffusers' `Wan…Transformer3DModel`) becomes the
/// "config" metadata, unless a header has one (diffusers' num_attention_heads read as num_heads).
core::Result<WeightSource> open_dit_weights(const std::filesystem::path& path);

}  // namespace fl::inference::wan
