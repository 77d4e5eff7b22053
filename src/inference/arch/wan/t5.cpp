#include "inference/arch/wan/t5.h"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "inference/arch/wan/config_util.h"

namespace fl::inference::wan {

namespace {

/// fp16 only: pulls infinities back into range after each residual add, as the reference does.
torch::Tensor fp16_clamp(torch::Tensor x) {
    if (x.scalar_type() == torch::kFloat16 && x.isinf().any().item<bool>()) x = x.clamp(-64504.0, 64504.0);
    return x;
}

/// T5LayerNorm: RMS norm without mean or bias; statistics in fp32, cast back for half weights.
class T5LayerNormImpl : public torch::nn::Module {
public:
    T5LayerNormImpl(int64_t dim, double eps) : eps_(eps) { weight = register_parameter("weight", torch::ones({dim})); }
    // x: [B, L, C]
    torch::Tensor forward(const torch::Tensor& x) {
        torch::Tensor y = x * torch::rsqrt(x.to(torch::kFloat32).pow(2).mean(-1, /*keepdim=*/true) + eps_);
        if (weight.scalar_type() == torch::kFloat16 || weight.scalar_type() == torch::kBFloat16)
            y = y.to(weight.scalar_type());
        return weight * y;
    }
    torch::Tensor weight;

private:
    double eps_;
};
TORCH_MODULE(T5LayerNorm);

/// Multi-head attention without 1/sqrt(d) scaling (T5); q, k, v, o carry no biases.
class T5AttentionImpl : public torch::nn::Module {
public:
    T5AttentionImpl(int64_t dim, int64_t dim_attn, int64_t num_heads) : num_heads_(num_heads) {
        q = register_module("q", torch::nn::Linear(torch::nn::LinearOptions(dim, dim_attn).bias(false)));
        k = register_module("k", torch::nn::Linear(torch::nn::LinearOptions(dim, dim_attn).bias(false)));
        v = register_module("v", torch::nn::Linear(torch::nn::LinearOptions(dim, dim_attn).bias(false)));
        o = register_module("o", torch::nn::Linear(torch::nn::LinearOptions(dim_attn, dim).bias(false)));
    }
    // x: [B, L, C]; mask: [B, L] (0 = padding key); pos_bias: [1, n, L, L]
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask, const torch::Tensor& pos_bias) {
        const int64_t b = x.size(0), l = x.size(1), n = num_heads_;
        const torch::Tensor qh = q(x).view({b, l, n, -1}).transpose(1, 2);  // [B, n, L, d]
        const torch::Tensor kh = k(x).view({b, l, n, -1}).transpose(1, 2);
        const torch::Tensor vh = v(x).view({b, l, n, -1}).transpose(1, 2);
        // As the reference: the bias is the position bias, overwritten by finfo.min on padded keys.
        torch::Tensor bias = pos_bias.to(x.scalar_type()).expand({b, n, l, l});
        if (mask.defined()) {
            const double lowest = x.scalar_type() == torch::kFloat64   ? std::numeric_limits<double>::lowest()
                                  : x.scalar_type() == torch::kBFloat16 ? -3.3895313892515355e38
                                  : x.scalar_type() == torch::kFloat16  ? -65504.0
                                                                        : double(std::numeric_limits<float>::lowest());
            bias = bias.masked_fill(mask.view({b, 1, 1, l}).eq(0), lowest);
        }
        const torch::Tensor logits = torch::matmul(qh, kh.transpose(-1, -2)) + bias;  // [B, n, L, L]
        const torch::Tensor attn = torch::softmax(logits.to(torch::kFloat32), -1).to(x.scalar_type());
        const torch::Tensor out = torch::matmul(attn, vh).transpose(1, 2).reshape({b, l, -1});  // [B, L, n*d]
        return o(out);
    }
    torch::nn::Linear q{nullptr}, k{nullptr}, v{nullptr}, o{nullptr};

private:
    int64_t num_heads_;
};
TORCH_MODULE(T5Attention);

/// Gated-GELU feed-forward: fc2(fc1(x) * gelu_tanh(gate(x))).
class T5FeedForwardImpl : public torch::nn::Module {
public:
    T5FeedForwardImpl(int64_t dim, int64_t dim_ffn) {
        gate = register_module("gate", torch::nn::Sequential(torch::nn::Linear(torch::nn::LinearOptions(dim, dim_ffn).bias(false))));
        fc1 = register_module("fc1", torch::nn::Linear(torch::nn::LinearOptions(dim, dim_ffn).bias(false)));
        fc2 = register_module("fc2", torch::nn::Linear(torch::nn::LinearOptions(dim_ffn, dim).bias(false)));
    }
    // x: [B, L, C]
    torch::Tensor forward(const torch::Tensor& x) {
        const torch::Tensor g = torch::gelu(gate->forward(x), "tanh");
        return fc2(fc1(x) * g);
    }
    torch::nn::Sequential gate{nullptr};
    torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(T5FeedForward);

/// The relative position bias table of one layer: embedding [num_buckets, num_heads].
class T5RelativeEmbeddingImpl : public torch::nn::Module {
public:
    T5RelativeEmbeddingImpl(int64_t num_buckets, int64_t num_heads) {
        embedding = register_module("embedding", torch::nn::Embedding(num_buckets, num_heads));
    }
    // buckets: [L, L] int64 → [1, n, L, L]
    torch::Tensor forward(const torch::Tensor& buckets) {
        return embedding(buckets).permute({2, 0, 1}).unsqueeze(0).contiguous();
    }
    torch::nn::Embedding embedding{nullptr};
};
TORCH_MODULE(T5RelativeEmbedding);

/// One encoder layer: x += attn(norm1(x)); x += ffn(norm2(x)).
class T5BlockImpl : public torch::nn::Module {
public:
    explicit T5BlockImpl(const T5Config& c) {
        norm1 = register_module("norm1", T5LayerNorm(c.dim, c.eps));
        attn = register_module("attn", T5Attention(c.dim, c.dim_attn, c.num_heads));
        norm2 = register_module("norm2", T5LayerNorm(c.dim, c.eps));
        ffn = register_module("ffn", T5FeedForward(c.dim, c.dim_ffn));
        if (!c.shared_pos) pos_embedding = register_module("pos_embedding", T5RelativeEmbedding(c.num_buckets, c.num_heads));
    }
    // x: [B, L, C]; shared_bias used only when the layer has no table of its own.
    torch::Tensor forward(torch::Tensor x, const torch::Tensor& mask, const torch::Tensor& buckets,
                          const torch::Tensor& shared_bias) {
        const torch::Tensor bias = pos_embedding ? pos_embedding(buckets) : shared_bias;
        x = fp16_clamp(x + attn(norm1(x), mask, bias));
        x = fp16_clamp(x + ffn(norm2(x)));
        return x;
    }
    T5LayerNorm norm1{nullptr}, norm2{nullptr};
    T5Attention attn{nullptr};
    T5FeedForward ffn{nullptr};
    T5RelativeEmbedding pos_embedding{nullptr};
};
TORCH_MODULE(T5Block);

/// The shape of a stored tensor of rank `rank`, or an error naming the key.
core::Result<std::vector<int64_t>> shape_of(const ShapeMap& shapes, const std::string& key, size_t rank) {
    const auto it = shapes.find(key);
    if (it == shapes.end()) return core::fail("not a T5 encoder checkpoint: it has no '" + key + "'");
    if (it->second.size() != rank)
        return core::fail("not a T5 encoder checkpoint: '" + key + "' has rank " +
                          std::to_string(it->second.size()) + ", expected " + std::to_string(rank));
    return it->second;
}

}  // namespace

struct T5EncoderImpl::Parts {
    torch::nn::Embedding token_embedding{nullptr};
    std::vector<T5Block> blocks;
    T5RelativeEmbedding pos_embedding{nullptr};  // shared_pos only
    T5LayerNorm norm{nullptr};
};

core::Result<T5Config> T5Config::from_shapes(const ShapeMap& shapes,
                                             const std::map<std::string, std::string>& metadata,
                                             const std::string& prefix) {
    T5Config c;
    auto emb = shape_of(shapes, prefix + "token_embedding.weight", 2);
    if (!emb) return emb.error();
    c.vocab = (*emb)[0];
    c.dim = (*emb)[1];
    auto q = shape_of(shapes, prefix + "blocks.0.attn.q.weight", 2);
    if (!q) return q.error();
    c.dim_attn = (*q)[0];
    auto fc1 = shape_of(shapes, prefix + "blocks.0.ffn.fc1.weight", 2);
    if (!fc1) return fc1.error();
    c.dim_ffn = (*fc1)[0];
    c.num_layers = 0;
    while (shapes.count(prefix + "blocks." + std::to_string(c.num_layers) + ".norm1.weight")) ++c.num_layers;
    // The bias table is [num_buckets, num_heads]: per layer (umT5) or shared at the top (T5).
    const std::string layer_table = prefix + "blocks.0.pos_embedding.embedding.weight";
    c.shared_pos = shapes.count(layer_table) == 0;
    auto table = shape_of(shapes, c.shared_pos ? prefix + "pos_embedding.embedding.weight" : layer_table, 2);
    if (!table) return table.error();
    c.num_buckets = (*table)[0];
    c.num_heads = (*table)[1];
    // max_dist is not in the shapes; take it from the metadata config when present.
    const auto meta = metadata.find("config");
    if (meta != metadata.end()) {
        const auto j = nlohmann::json::parse(meta->second, nullptr, false);
        if (j.is_object()) {
            if (j.contains("max_dist") && j["max_dist"].is_number_integer()) c.max_dist = j["max_dist"].get<int64_t>();
            if (j.contains("eps") && j["eps"].is_number()) c.eps = j["eps"].get<double>();
        }
    }
    if (c.dim_attn % c.num_heads != 0)
        return core::fail("not a T5 encoder checkpoint: it has attention width " +
                          std::to_string(c.dim_attn) + " not divisible by " + std::to_string(c.num_heads) +
                          " heads");
    return c;
}

core::Result<T5Config> T5Config::from_weights(const SafeTensorsFile& file, const std::string& prefix) {
    return config_from_file<T5Config>(file, prefix);
}

int64_t t5_relative_bucket(int64_t rel, int64_t num_buckets, int64_t max_dist) {
    // Bidirectional: half the buckets for keys after the query, half for keys at or before it.
    const int64_t half = num_buckets / 2;
    int64_t bucket = rel > 0 ? half : 0;
    const int64_t a = rel < 0 ? -rel : rel;
    const int64_t max_exact = half / 2;
    if (a < max_exact) return bucket + a;
    // Computed in fp32 like the reference, so the bucket edges (16, 32, 64, ...) land identically.
    const float scaled = std::log(static_cast<float>(a) / static_cast<float>(max_exact)) /
                         static_cast<float>(std::log(static_cast<double>(max_dist) / static_cast<double>(max_exact))) *
                         static_cast<float>(half - max_exact);
    const int64_t large = std::min<int64_t>(max_exact + static_cast<int64_t>(scaled), half - 1);
    return bucket + large;
}

T5EncoderImpl::T5EncoderImpl(const T5Config& config) : config_(config), parts_(std::make_shared<Parts>()) {
    parts_->token_embedding = register_module("token_embedding", torch::nn::Embedding(config.vocab, config.dim));
    if (config.shared_pos)
        parts_->pos_embedding = register_module("pos_embedding", T5RelativeEmbedding(config.num_buckets, config.num_heads));
    torch::nn::ModuleList blocks;
    for (int64_t i = 0; i < config.num_layers; ++i) {
        parts_->blocks.push_back(T5Block(config));
        blocks->push_back(parts_->blocks.back());
    }
    register_module("blocks", blocks);
    parts_->norm = register_module("norm", T5LayerNorm(config.dim, config.eps));
}

torch::Tensor T5EncoderImpl::forward(const torch::Tensor& ids, const torch::Tensor& mask) {
    const int64_t l = ids.size(1);
    // buckets: [L, L] for rel = key − query, shared by every layer (each layer has its own table).
    std::vector<int64_t> table(static_cast<size_t>(l * l));
    for (int64_t i = 0; i < l; ++i)
        for (int64_t j = 0; j < l; ++j)
            table[static_cast<size_t>(i * l + j)] = t5_relative_bucket(j - i, config_.num_buckets, config_.max_dist);
    const torch::Tensor buckets =
        torch::from_blob(table.data(), {l, l}, torch::kInt64).clone().to(parts_->token_embedding->weight.device());

    torch::Tensor x = parts_->token_embedding(ids);  // [B, L, C], not scaled
    const torch::Tensor m = mask.defined() ? mask.to(x.device()) : torch::Tensor();
    const torch::Tensor shared = config_.shared_pos ? parts_->pos_embedding(buckets) : torch::Tensor();
    for (auto& block : parts_->blocks) x = block(x, m, buckets, shared);
    return parts_->norm(x);
}

}  // namespace fl::inference::wan
