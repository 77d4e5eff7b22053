#pragma once
/// umT5 encoder as used by Wan (T5 relative-position encoder, per-layer bias, gated-GELU FFN),
/// config-driven and named exactly as `models_t5_umt5-xxl-enc-bf16.pth` keys. See reference/wan.md §2.

#include <torch/torch.h>

#include "frameloom/core/result.h"
#include "frameloom/inference/safetensors.h"

namespace fl::inference::wan {

/// Shapes of a T5 encoder; `from_weights` reads them from the checkpoint tensors.
struct T5Config {
    int64_t vocab = 256384;
    int64_t dim = 4096;
    int64_t dim_attn = 4096;
    int64_t dim_ffn = 10240;
    int64_t num_heads = 64;
    int64_t num_layers = 24;
    int64_t num_buckets = 32;
    int64_t max_dist = 128;
    bool shared_pos = false;  ///< umT5: false (a bias table per layer)
    double eps = 1e-6;

    /// Infers vocab/dim/ffn/layers from shapes, and buckets and heads from the bias table's shape
    /// [num_buckets, num_heads] (per layer, or shared at the top for classic T5); max_dist and eps from the
    /// metadata "config" JSON when present (otherwise 128 and 1e-6, as umT5).
    static core::Result<T5Config> from_weights(const SafeTensorsFile& file, const std::string& prefix = "");
    /// The same from a key → shape map and header metadata.
    static core::Result<T5Config> from_shapes(const std::map<std::string, std::vector<int64_t>>& shapes,
                                              const std::map<std::string, std::string>& metadata,
                                              const std::string& prefix = "");
};

/// Bucket index for relative position rel = key_pos − query_pos (bidirectional), exactly as the reference.
int64_t t5_relative_bucket(int64_t rel, int64_t num_buckets, int64_t max_dist);

/// The encoder. Modules: token_embedding, blocks.{i}.{norm1,attn.{q,k,v,o},norm2,ffn.{gate.0,fc1,fc2},
/// pos_embedding.embedding}, norm.
class T5EncoderImpl : public torch::nn::Module {
public:
    explicit T5EncoderImpl(const T5Config& config);
    /// ids: [B, L] int64; mask: [B, L] (1 = token, 0 = padding) → [B, L, dim] after the final norm.
    torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& mask);
    const T5Config& config() const { return config_; }

private:
    T5Config config_;
    struct Parts;
    std::shared_ptr<Parts> parts_;
};
TORCH_MODULE(T5Encoder);

}  // namespace fl::inference::wan
