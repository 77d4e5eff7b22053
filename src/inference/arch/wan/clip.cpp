#include "inference/arch/wan/clip.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <nlohmann/json.hpp>
#include <optional>

#include "inference/blocks/attention.h"
#include "inference/arch/wan/config_util.h"
#include "inference/blocks/norms.h"

namespace fl::inference::wan {

// ---------------------------------------------------------------------------------------------------------
// Config

namespace {


}  // namespace

core::Result<CLIPVisionConfig> CLIPVisionConfig::from_shapes(
    const ShapeMap& shapes, const std::map<std::string, std::string>& metadata, const std::string& prefix) {
    auto shape_of = [&](const std::string& key, size_t rank) -> core::Result<std::vector<int64_t>> {
        auto it = shapes.find(prefix + key);
        if (it == shapes.end())
            return core::fail("not a CLIP vision checkpoint: tensor '" + prefix + key + "' is missing");
        if (it->second.size() != rank)
            return core::fail("not a CLIP vision checkpoint: '" + prefix + key + "' has shape " +
                              shape_str(it->second) + ", expected rank " + std::to_string(rank));
        return it->second;
    };

    CLIPVisionConfig c;
    c.prefix = prefix;
    auto patch = shape_of("patch_embedding.weight", 4);
    if (!patch) return patch.error();
    if ((*patch)[1] != 3 || (*patch)[2] != (*patch)[3])
        return core::fail("CLIP vision checkpoint: patch_embedding.weight " + shape_str(*patch) +
                          " is not [dim, 3, p, p]");
    c.dim = (*patch)[0];
    c.patch_size = (*patch)[2];
    c.patch_bias = shapes.count(prefix + "patch_embedding.bias") > 0;
    c.pre_norm = shapes.count(prefix + "pre_norm.weight") > 0;
    if (!shapes.count(prefix + "cls_embedding"))
        return core::fail("CLIP vision checkpoint: '" + prefix +
                          "cls_embedding' is missing (only class-token towers are supported)");
    auto pos = shape_of("pos_embedding", 3);
    if (!pos) return pos.error();
    const int64_t patches = (*pos)[1] - 1;
    const auto grid =
        static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(std::max<int64_t>(0, patches)))));
    if (patches <= 0 || grid * grid != patches || (*pos)[2] != c.dim)
        return core::fail("CLIP vision checkpoint: pos_embedding " + shape_str(*pos) +
                          " is not [1, 1 + n², dim] for a square patch grid");
    c.image_size = grid * c.patch_size;
    auto mlp0 = shape_of("transformer.0.mlp.0.weight", 2);
    if (!mlp0) return mlp0.error();
    c.mlp_dim = (*mlp0)[0];
    c.num_layers = 0;
    while (shapes.count(prefix + "transformer." + std::to_string(c.num_layers) + ".norm1.weight"))
        ++c.num_layers;

    if (auto v = meta_field(metadata, "num_heads")) {
        try {
            c.num_heads = std::stoll(*v);
        } catch (const std::exception&) {
            return core::fail("CLIP vision metadata 'num_heads' is not an integer: '" + *v + "'");
        }
    } else {
        c.num_heads = c.dim % 80 == 0 ? c.dim / 80 : c.dim / 64;
    }
    if (auto v = meta_field(metadata, "activation")) {
        if (*v != "gelu" && *v != "quick_gelu")
            return core::fail("CLIP vision metadata 'activation' is '" + *v +
                              "' (gelu or quick_gelu supported)");
        c.quick_gelu = *v == "quick_gelu";
    }
    if (auto v = meta_field(metadata, "norm_eps")) {
        try {
            c.eps = std::stod(*v);
        } catch (const std::exception&) {
            return core::fail("CLIP vision metadata 'norm_eps' is not a number: '" + *v + "'");
        }
    }
    FL_TRY(c.validate());
    return c;
}

core::Result<CLIPVisionConfig> CLIPVisionConfig::from_weights(const SafeTensorsFile& file,
                                                              const std::string& prefix) {
    return config_from_file<CLIPVisionConfig>(file, prefix);
}

core::Result<void> CLIPVisionConfig::validate() const {
    auto bad = [](const std::string& why) { return core::fail("invalid CLIP vision config: " + why); };
    if (dim <= 0 || mlp_dim <= 0 || patch_size <= 0 || image_size <= 0)
        return bad("every size must be positive");
    if (image_size % patch_size != 0)
        return bad("image_size " + std::to_string(image_size) + " is not a multiple of the patch " +
                   std::to_string(patch_size));
    if (num_layers < 2)
        return bad("the tower returns the tokens before its last block, so it needs at least 2 blocks (has " +
                   std::to_string(num_layers) + ")");
    if (num_heads <= 0 || dim % num_heads != 0)
        return bad("dim " + std::to_string(dim) + " is not divisible by num_heads " +
                   std::to_string(num_heads) + " (set metadata \"num_heads\")");
    if (!(eps > 0.0)) return bad("norm_eps must be positive");
    return core::ok();
}

// ---------------------------------------------------------------------------------------------------------
// Preprocessing

torch::Tensor clip_preprocess(const torch::Tensor& image, int64_t image_size) {
    TORCH_CHECK((image.dim() == 3 && image.size(0) == 3) || (image.dim() == 4 && image.size(1) == 3),
                "clip_preprocess: image must be [3, H, W] or [B, 3, H, W], got ", image.sizes());
    const torch::Tensor x =
        (image.dim() == 3 ? image.unsqueeze(0) : image).to(torch::kFloat);  // [B, 3, H, W]
    namespace F = torch::nn::functional;
    torch::Tensor r = F::interpolate(x, F::InterpolateFuncOptions()
                                            .size(std::vector<int64_t>{image_size, image_size})
                                            .mode(torch::kBicubic)
                                            .align_corners(false));
    r = r.mul(0.5).add(0.5);  // [−1, 1] → [0, 1]
    const auto opts = r.options();
    const torch::Tensor mean =
        torch::tensor({kCLIPMean[0], kCLIPMean[1], kCLIPMean[2]}, opts).view({1, 3, 1, 1});
    const torch::Tensor stdv =
        torch::tensor({kCLIPStd[0], kCLIPStd[1], kCLIPStd[2]}, opts).view({1, 3, 1, 1});
    return r.sub(mean).div(stdv);
}

// ---------------------------------------------------------------------------------------------------------
// Modules, each named as the checkpoint keys.

namespace clip_detail {

/// Linear [out, in] + bias [out], uninitialised until loaded.
class LinearImpl : public torch::nn::Module {
public:
    LinearImpl(int64_t in, int64_t out) {
        weight = register_parameter("weight", torch::empty({out, in}));
        bias = register_parameter("bias", torch::empty({out}));
    }
    /// x: [..., in] → [..., out]
    torch::Tensor forward(const torch::Tensor& x) const { return torch::linear(x, weight, bias); }
    torch::Tensor weight, bias;
};
TORCH_MODULE(Linear);

/// Self-attention with a fused to_qkv [3·dim, dim] (q, k, v blocks in that order) and proj.
class SelfAttentionImpl : public torch::nn::Module {
public:
    SelfAttentionImpl(int64_t dim, int64_t heads) : heads_(heads) {
        to_qkv = register_module("to_qkv", Linear(dim, 3 * dim));
        proj = register_module("proj", Linear(dim, dim));
    }
    /// x: [B, L, C] → [B, L, C]
    torch::Tensor forward(const torch::Tensor& x) const {
        const int64_t b = x.size(0), l = x.size(1), c = x.size(2), d = c / heads_;
        const torch::Tensor qkv = to_qkv->forward(x).view({b, l, 3, heads_, d}).permute({2, 0, 3, 1, 4});
        const torch::Tensor out = attention(qkv[0], qkv[1], qkv[2]);  // [B, n, L, d], scale 1/√d
        return proj->forward(out.transpose(1, 2).reshape({b, l, c}));
    }
    Linear to_qkv{nullptr}, proj{nullptr};

private:
    int64_t heads_;
};
TORCH_MODULE(SelfAttention);

/// Sequential(Linear, GELU, Linear, Dropout) as keys `0` and `2`.
class MLPImpl : public torch::nn::Module {
public:
    MLPImpl(int64_t dim, int64_t hidden, bool quick_gelu) : quick_gelu_(quick_gelu) {
        l0 = register_module("0", Linear(dim, hidden));
        l2 = register_module("2", Linear(hidden, dim));
    }
    torch::Tensor forward(const torch::Tensor& x) const {
        torch::Tensor h = l0->forward(x);
        h = quick_gelu_ ? h * torch::sigmoid(1.702 * h) : torch::gelu(h);
        return l2->forward(h);
    }
    Linear l0{nullptr}, l2{nullptr};

private:
    bool quick_gelu_;
};
TORCH_MODULE(MLP);

/// Pre-norm block: x += attn(norm1 x); x += mlp(norm2 x).
class BlockImpl : public torch::nn::Module {
public:
    explicit BlockImpl(const CLIPVisionConfig& c) {
        norm1 = register_module("norm1", AffineLayerNorm(c.dim, c.eps));
        attn = register_module("attn", SelfAttention(c.dim, c.num_heads));
        norm2 = register_module("norm2", AffineLayerNorm(c.dim, c.eps));
        mlp = register_module("mlp", MLP(c.dim, c.mlp_dim, c.quick_gelu));
    }
    /// x: [B, L, C] → [B, L, C]
    torch::Tensor forward(torch::Tensor x) const {
        x = x + attn->forward(norm1->forward(x));
        return x + mlp->forward(norm2->forward(x));
    }
    AffineLayerNorm norm1{nullptr}, norm2{nullptr};
    SelfAttention attn{nullptr};
    MLP mlp{nullptr};
};
TORCH_MODULE(Block);

}  // namespace clip_detail

using namespace clip_detail;

struct CLIPVisionImpl::Parts {
    torch::Tensor patch_weight;   // [C, 3, p, p]
    torch::Tensor patch_bias;     // [C] or undefined
    torch::Tensor cls_embedding;  // [1, 1, C]
    torch::Tensor pos_embedding;  // [1, tokens, C]
    AffineLayerNorm pre_norm{nullptr};
    std::vector<Block> blocks;
};

CLIPVisionImpl::CLIPVisionImpl(const CLIPVisionConfig& config)
    : config_(config), parts_(std::make_shared<Parts>()) {
    const auto& c = config_;
    auto& p = *parts_;
    auto patch = register_module("patch_embedding", std::make_shared<torch::nn::Module>());
    p.patch_weight =
        patch->register_parameter("weight", torch::empty({c.dim, 3, c.patch_size, c.patch_size}));
    if (c.patch_bias) p.patch_bias = patch->register_parameter("bias", torch::empty({c.dim}));
    p.cls_embedding = register_parameter("cls_embedding", torch::empty({1, 1, c.dim}));
    p.pos_embedding = register_parameter("pos_embedding", torch::empty({1, c.tokens(), c.dim}));
    if (c.pre_norm) p.pre_norm = register_module("pre_norm", AffineLayerNorm(c.dim, c.eps));
    auto list = register_module("transformer", torch::nn::ModuleList());
    for (int64_t i = 0; i < c.used_layers(); ++i) {
        p.blocks.push_back(Block(c));
        list->push_back(p.blocks.back());
    }
}

torch::Tensor CLIPVisionImpl::forward(const torch::Tensor& pixels) {
    torch::NoGradGuard no_grad;
    const auto& c = config_;
    const auto& p = *parts_;
    TORCH_CHECK(pixels.dim() == 4 && pixels.size(1) == 3 && pixels.size(2) == c.image_size &&
                    pixels.size(3) == c.image_size,
                "CLIPVision: pixels must be [B, 3, ", c.image_size, ", ", c.image_size, "], got ",
                pixels.sizes());
    const int64_t b = pixels.size(0), g = c.grid(), ps = c.patch_size;
    // Conv2d with kernel = stride = patch as patchify + matmul: [B, 3, H, W] → [B, g², 3·p·p] in (c, ph, pw).
    const torch::Tensor patches = pixels.to(p.patch_weight.device(), torch::kFloat)
                                      .view({b, 3, g, ps, g, ps})
                                      .permute({0, 2, 4, 1, 3, 5})
                                      .reshape({b, g * g, 3 * ps * ps});
    torch::Tensor x = torch::linear(patches, p.patch_weight.view({c.dim, -1}), p.patch_bias);  // [B, g², C]
    x = torch::cat({p.cls_embedding.expand({b, 1, c.dim}), x}, 1) + p.pos_embedding;  // [B, tokens, C]
    if (c.pre_norm) x = p.pre_norm->forward(x);
    for (const auto& block : p.blocks) x = block->forward(x);
    return x;
}

torch::Tensor CLIPVisionImpl::encode(const torch::Tensor& image) {
    return forward(clip_preprocess(image, config_.image_size));
}

}  // namespace fl::inference::wan
