#pragma once
/// The CLIP visual tower as Wan i2v/flf2v uses it (open-clip xlm-roberta-large ViT-H/14, reference/wan.md
/// §4): pre-norm ViT whose output is the 257 tokens after all blocks but the last, with no post_norm and no
/// head. Modules are named as the released checkpoint's `visual.*` keys.

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "frameloom/core/result.h"
#include "frameloom/inference/safetensors.h"

namespace fl::inference::wan {

/// Shapes of the visual tower, read from the weights' shapes; heads and activation from metadata.
struct CLIPVisionConfig {
    int64_t image_size = 224;
    int64_t patch_size = 14;
    int64_t dim = 1280;
    int64_t mlp_dim = 5120;
    int64_t num_heads = 16;
    /// Blocks in the checkpoint (32 for ViT-H); the tower builds and runs num_layers − 1 of them.
    int64_t num_layers = 32;
    double eps = 1e-5;
    bool quick_gelu = false;  ///< false: exact-erf GELU (Wan's ViT-H); true: x·σ(1.702x) (OpenAI CLIP)
    bool pre_norm = true;     ///< LN after the embeddings (`pre_norm.*`)
    bool patch_bias = false;  ///< `patch_embedding.bias` present (only towers without pre_norm have one)
    /// Key prefix, "visual." as released.
    std::string prefix = "visual.";

    int64_t grid() const { return image_size / patch_size; }
    /// Tokens out: the class token plus grid² patches (257 for ViT-H/14 at 224).
    int64_t tokens() const { return grid() * grid() + 1; }
    /// Blocks the tower runs: all but the last (Wan's `use_31_block`).
    int64_t used_layers() const { return num_layers - 1; }

    /// Reads shapes from the checkpoint under `prefix`; metadata (or its "config" JSON) may give
    /// "num_heads" (else dim/80 when whole, as ViT-H, otherwise dim/64), "activation" (gelu | quick_gelu)
    /// and "norm_eps".
    static core::Result<CLIPVisionConfig> from_weights(const SafeTensorsFile& file,
                                                       const std::string& prefix = "visual.");
    /// The same from a key → shape map and the header metadata.
    static core::Result<CLIPVisionConfig> from_shapes(
        const std::map<std::string, std::vector<int64_t>>& shapes,
        const std::map<std::string, std::string>& metadata, const std::string& prefix = "visual.");
    /// Errors when the combination is impossible (heads not dividing dim, fewer than two blocks, ...).
    core::Result<void> validate() const;
};

/// CLIP image normalisation constants (OpenAI CLIP, used by open-clip ViT-H), RGB order.
inline constexpr double kCLIPMean[3] = {0.48145466, 0.4578275, 0.40821073};
inline constexpr double kCLIPStd[3] = {0.26862954, 0.26130258, 0.27577711};

/// The reference preprocessing: image [3, H, W] or [B, 3, H, W] in [−1, 1] (full frame, no crop) →
/// bicubic resize to image_size² (align_corners false, no antialias) → [0, 1] → (x − mean)/std.
/// Returns fp32 [B, 3, image_size, image_size] on the input's device.
torch::Tensor clip_preprocess(const torch::Tensor& image, int64_t image_size);

/// The visual tower. Modules: patch_embedding, cls_embedding, pos_embedding, pre_norm,
/// transformer.{0..N−2}.{norm1, attn.{to_qkv, proj}, norm2, mlp.{0, 2}}. The last block, post_norm and
/// head are unused by Wan and not built (load with strict = false; they are ignored).
class CLIPVisionImpl : public torch::nn::Module {
public:
    /// Builds the modules with uninitialised parameters (a load overwrites every one).
    explicit CLIPVisionImpl(const CLIPVisionConfig& config);

    /// pixels: [B, 3, image_size, image_size] normalised (clip_preprocess) → fp32 [B, tokens, dim], the
    /// tokens after all blocks but the last, without post_norm.
    torch::Tensor forward(const torch::Tensor& pixels);
    /// clip_preprocess then forward: image [3, H, W] or [B, 3, H, W] in [−1, 1] → [B, tokens, dim].
    torch::Tensor encode(const torch::Tensor& image);

    const CLIPVisionConfig& config() const { return config_; }

private:
    CLIPVisionConfig config_;
    struct Parts;
    std::shared_ptr<Parts> parts_;
};
TORCH_MODULE(CLIPVision);

}  // namespace fl::inference::wan
