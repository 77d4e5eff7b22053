#pragma once
/// The Wan diffusion transformer (Wan2.1 t2v/i2v/flf2v, Wan2.2 ti2v and i2v), config-driven, its modules
/// named exactly as the original checkpoint keys (reference/wan.md §1).

#include <torch/torch.h>

#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "frameloom/core/result.h"
#include "frameloom/inference/safetensors.h"

namespace fl::inference::wan {

/// Shapes of a Wan DiT. Read from the weights' shapes (or a config.json); heads from metadata or dim/128.
struct WanDiTConfig {
    std::string model_type = "t2v";  ///< t2v | i2v | flf2v | ti2v
    int64_t dim = 1536;
    int64_t ffn_dim = 8960;
    int64_t freq_dim = 256;
    int64_t text_dim = 4096;
    int64_t text_len = 512;
    int64_t num_heads = 12;
    int64_t num_layers = 30;
    int64_t in_dim = 16;
    int64_t out_dim = 16;
    double eps = 1e-6;
    std::array<int64_t, 3> patch{1, 2, 2};
    /// Wan2.1 i2v/flf2v image conditioning: `img_emb` (MLPProj of CLIP tokens) and `cross_attn.{k_img,
    /// v_img, norm_k_img}`, found from the `img_emb.*` keys. Wan2.2 i2v has none (it only concatenates y).
    bool image_cross_attn = false;
    /// Width of the CLIP tokens img_emb takes (1280, ViT-H), from `img_emb.proj.0.weight`.
    int64_t clip_dim = 1280;
    /// flf2v: rows of `img_emb.emb_pos` [1, 514, clip_dim] (two frames × 257 CLIP tokens); 0 otherwise.
    int64_t emb_pos_len = 0;
    /// VACE (Wan2.1 VACE-1.3B/14B): the main blocks after which a hint is added, in order (empty: not a VACE
    /// model), and the channels of its context (96: inactive + reactive latents and the 64-channel mask).
    /// From metadata/config "vace_layers", else every num_layers / (number of vace_blocks)-th block (the
    /// released models: [0, 5, …]; the reference's default of every second block fits the same rule).
    std::vector<int64_t> vace_layers;
    int64_t vace_in_dim = 0;
    /// Frameloom's own extension, not in any Wan release: `text_pooling` [dim, text_dim], a Linear of the
    /// mean of the prompt's context rows, added to the time embedding e of each sample, so the prompt also
    /// reaches every token through the blocks' scale/shift modulation (as pooled text does in SD3 and
    /// Flux), not only through cross-attention. Found from the `text_pooling.weight` key.
    bool pooled_text = false;
    /// Frameloom's own extension, not in any Wan release: `detail_head.{0,2}`, an MLP (GELU) beside the
    /// output head that reads each token's input pixels (the noisy latent with the conditioning channels) and
    /// the head's modulated features, and adds its output to the head's. A token stands for more pixel values
    /// (prod(patch)·out_dim) than it has channels (dim) when the patch codec is used, so the linear head can
    /// only draw a blur of them; this path lets fine edges through from the input. The width of its hidden
    /// layer; 0 = none. Found from the `detail_head.0.weight` key [hidden, dim + in_dim·prod(patch)].
    int64_t detail_hidden = 0;
    /// Key prefix of the weights ("" or e.g. "model.diffusion_model."), as from_weights found it.
    std::string prefix;

    int64_t head_dim() const { return dim / num_heads; }
    /// Latent values per token and channel: pt·ph·pw.
    int64_t patch_volume() const { return patch[0] * patch[1] * patch[2]; }
    /// Reads shapes from the checkpoint (keys with an optional prefix); metadata may give
    /// num_heads, text_len, model_type. Without model_type: `img_emb.emb_pos` → flf2v, `img_emb.*` → i2v,
    /// in_dim 36 → i2v (Wan2.2, no CLIP), in_dim 48 → ti2v, else t2v.
    static core::Result<WanDiTConfig> from_weights(const SafeTensorsFile& file,
                                                   const std::string& prefix = "");
    /// The same from a key → shape map and the header metadata (metadata "num_heads", "text_len",
    /// "model_type", "eps", or the same fields inside a "config" JSON). With an empty `prefix` and no
    /// `patch_embedding.weight`, the prefix of any key ending in it is used.
    static core::Result<WanDiTConfig> from_shapes(const std::map<std::string, std::vector<int64_t>>& shapes,
                                                  const std::map<std::string, std::string>& metadata,
                                                  const std::string& prefix = "");
    /// Errors when the combination is impossible (head_dim odd or not divisible for the RoPE split, ...).
    core::Result<void> validate() const;
};

/// Matmul precision inside the blocks; norms, modulation, time/head paths and the residual stay fp32.
enum class DiTPrecision { F32, BF16 };

/// WanModel. Top-level modules: patch_embedding, text_embedding, time_embedding, time_projection, blocks,
/// head, and img_emb for Wan2.1 i2v/flf2v.
class WanDiTImpl : public torch::nn::Module {
public:
    /// Builds the modules. With `initialise`, parameters get the reference's init_weights() draws from
    /// LibTorch's default generator (seed it for reproducible weights); without, they stay uninitialised
    /// memory for a load that overwrites every one (saves seconds on multi-billion-parameter models).
    explicit WanDiTImpl(const WanDiTConfig& config, bool initialise = true);
    /// Re-draws every parameter as the reference's init_weights(): xavier-uniform Linears with zero bias,
    /// N(0, 0.02) text/time embeddings, modulation ~ N(0, 1/dim), zero output head, unit norms.
    void init_weights();

    /// x: [B, in_dim, F, H, W] (H, W divisible by the patch); t: [B] or [B, L] (per-token, Wan2.2);
    /// context: [B, Lc, text_dim] with Lc ≤ text_len, rows beyond a prompt's length zeroed (they are
    /// zero-padded to text_len inside and take part in cross-attention unmasked, as in the reference).
    /// Returns the velocity [B, out_dim, F, H, W] in fp32.
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& t, const torch::Tensor& context);
    /// i2v/flf2v: as above, plus clip_fea (CLIP tokens, see embed_image; required when the model has
    /// image_cross_attn, else must be undefined) and y [B, in_dim − Cx, F, H, W] (mask + image latent), which
    /// is concatenated after x's channels (undefined: x already holds all in_dim channels). clip_fea and y
    /// with batch 1 are shared by every sample (CFG pairs).
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& t, const torch::Tensor& context,
                          const torch::Tensor& clip_fea, const torch::Tensor& y);
    /// VACE: as above, plus vace_context [B or 1, vace_in_dim, F, H, W] (same grid as x), run through the
    /// vace blocks into one hint per vace layer, each added (× `vace_scale`) after its main block.
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& t, const torch::Tensor& context,
                          const torch::Tensor& clip_fea, const torch::Tensor& y,
                          const torch::Tensor& vace_context, double vace_scale = 1.0);
    /// img_emb: CLIP tokens → image context rows prepended to the text in cross-attention. i2v: clip_fea
    /// [B, 257, clip_dim] → [B, 257, dim]; flf2v: [2B, 257, clip_dim] (first and last frame per sample) or
    /// [B, 514, clip_dim], plus emb_pos → [B, 514, dim]. fp32 out.
    torch::Tensor embed_image(const torch::Tensor& clip_fea) const;

    /// Casts the big Linear weights to bf16 (BF16) or keeps fp32; call after loading weights.
    void set_precision(DiTPrecision precision);
    /// Layer-by-layer offload for devices smaller than the model: everything but the transformer blocks
    /// moves to `device`; the blocks stay in host memory and each is moved to `device` just before it runs
    /// and back after, so the device holds one block's weights at a time (plus activations). Results are
    /// the same as without offload; the price is one host→device copy of the weights per forward.
    void offload_blocks_to(torch::Device device);
    /// The precision set_precision() last chose (F32 after construction).
    DiTPrecision precision() const { return precision_; }
    const WanDiTConfig& config() const { return config_; }

private:
    WanDiTConfig config_;
    DiTPrecision precision_ = DiTPrecision::F32;
    std::optional<torch::Device> offload_device_;  ///< set by offload_blocks_to
    struct Parts;
    std::shared_ptr<Parts> parts_;
};
TORCH_MODULE(WanDiT);

}  // namespace fl::inference::wan
