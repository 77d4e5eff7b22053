#include "inference/arch/wan/dit.h"

#include <cmath>
#include <cstdlib>
#include <exception>
#include <nlohmann/json.hpp>
#include <optional>

#include "inference/blocks/attention.h"
#include "inference/arch/wan/config_util.h"
#include "inference/blocks/norms.h"
#include "inference/blocks/rope.h"

namespace fl::inference::wan {

// ---------------------------------------------------------------------------------------------------------
// Config

namespace {


core::Result<int64_t> meta_int(const std::string& key, const std::string& text) {
    try {
        size_t used = 0;
        const long long v = std::stoll(text, &used);
        if (used == text.size()) return static_cast<int64_t>(v);
    } catch (const std::exception&) {
    }
    return core::fail("Wan DiT metadata '" + key + "' is not an integer: '" + text + "'");
}

}  // namespace

core::Result<WanDiTConfig> WanDiTConfig::from_shapes(const ShapeMap& shapes,
                                                     const std::map<std::string, std::string>& metadata,
                                                     const std::string& prefix_in) {
    std::string prefix = prefix_in;
    const std::string anchor = "patch_embedding.weight";
    if (prefix.empty() && !shapes.count(anchor)) {
        for (const auto& [name, shape] : shapes) {
            if (name.size() > anchor.size() && name.ends_with("." + anchor)) {
                prefix = name.substr(0, name.size() - anchor.size());
                break;
            }
        }
    }
    auto shape_of = [&](const std::string& key, size_t rank) -> core::Result<std::vector<int64_t>> {
        auto it = shapes.find(prefix + key);
        if (it == shapes.end())
            return core::fail("not a Wan DiT checkpoint: tensor '" + prefix + key + "' is missing");
        if (it->second.size() != rank)
            return core::fail("not a Wan DiT checkpoint: '" + prefix + key + "' has shape " +
                              shape_str(it->second) + ", expected rank " + std::to_string(rank));
        return it->second;
    };

    WanDiTConfig c;
    c.prefix = prefix;
    auto patch = shape_of("patch_embedding.weight", 5);
    if (!patch) return patch.error();
    c.dim = (*patch)[0];
    c.in_dim = (*patch)[1];
    c.patch = {(*patch)[2], (*patch)[3], (*patch)[4]};
    auto text0 = shape_of("text_embedding.0.weight", 2);
    if (!text0) return text0.error();
    c.text_dim = (*text0)[1];
    auto time0 = shape_of("time_embedding.0.weight", 2);
    if (!time0) return time0.error();
    c.freq_dim = (*time0)[1];
    auto ffn0 = shape_of("blocks.0.ffn.0.weight", 2);
    if (!ffn0) return ffn0.error();
    c.ffn_dim = (*ffn0)[0];
    auto head = shape_of("head.head.weight", 2);
    if (!head) return head.error();
    const int64_t patch_volume = c.patch_volume();
    if (patch_volume <= 0 || (*head)[0] % patch_volume != 0)
        return core::fail("Wan DiT checkpoint: head.head.weight rows (" + std::to_string((*head)[0]) +
                          ") are not a multiple of the patch volume " + std::to_string(patch_volume));
    c.out_dim = (*head)[0] / patch_volume;

    // Layers: blocks.{i}.modulation for i = 0..N-1, contiguous.
    c.num_layers = 0;
    while (shapes.count(prefix + "blocks." + std::to_string(c.num_layers) + ".modulation")) ++c.num_layers;
    for (const auto& [name, shape] : shapes) {
        if (!name.starts_with(prefix + "blocks.")) continue;
        const std::string rest = name.substr(prefix.size() + 7);
        const int64_t idx = std::atoll(rest.c_str());
        if (idx >= c.num_layers)
            return core::fail("Wan DiT checkpoint: '" + name + "' belongs to block " + std::to_string(idx) +
                              " but blocks.0.." + std::to_string(c.num_layers - 1) +
                              " are the only ones with a modulation (missing block?)");
    }

    if (auto v = meta_field(metadata, "num_heads")) {
        auto n = meta_int("num_heads", *v);
        if (!n) return n.error();
        c.num_heads = *n;
    } else {
        c.num_heads = c.dim / 128;
    }
    if (auto v = meta_field(metadata, "text_len")) {
        auto n = meta_int("text_len", *v);
        if (!n) return n.error();
        c.text_len = *n;
    } else {
        c.text_len = 512;
    }
    if (auto v = meta_field(metadata, "eps")) {
        try {
            c.eps = std::stod(*v);
        } catch (const std::exception&) {
            return core::fail("Wan DiT metadata 'eps' is not a number: '" + *v + "'");
        }
    }
    // Image conditioning (Wan2.1 i2v/flf2v): img_emb.proj.0 is the LN over the CLIP width.
    if (shapes.count(prefix + "img_emb.proj.0.weight")) {
        auto clip_ln = shape_of("img_emb.proj.0.weight", 1);
        if (!clip_ln) return clip_ln.error();
        c.image_cross_attn = true;
        c.clip_dim = (*clip_ln)[0];
        if (shapes.count(prefix + "img_emb.emb_pos")) {
            auto pos = shape_of("img_emb.emb_pos", 3);
            if (!pos) return pos.error();
            if ((*pos)[0] != 1 || (*pos)[2] != c.clip_dim)
                return core::fail("Wan DiT checkpoint: img_emb.emb_pos has shape " + shape_str(*pos) +
                                  ", expected [1, N, " + std::to_string(c.clip_dim) + "]");
            c.emb_pos_len = (*pos)[1];
        }
    } else if (shapes.count(prefix + "img_emb.emb_pos") ||
               shapes.count(prefix + "blocks.0.cross_attn.k_img.weight")) {
        return core::fail("Wan DiT checkpoint: image-conditioning tensors present but '" + prefix +
                          "img_emb.proj.0.weight' is missing (truncated or mixed checkpoint?)");
    }
    if (shapes.count(prefix + "text_pooling.weight")) {
        auto pool = shape_of("text_pooling.weight", 2);
        if (!pool) return pool.error();
        if ((*pool)[0] != c.dim || (*pool)[1] != c.text_dim)
            return core::fail("Wan DiT checkpoint: text_pooling.weight has shape " + shape_str(*pool) +
                              ", expected [" + std::to_string(c.dim) + ", " + std::to_string(c.text_dim) +
                              "]");
        c.pooled_text = true;
    }
    if (shapes.count(prefix + "detail_head.0.weight")) {
        auto l0 = shape_of("detail_head.0.weight", 2);
        if (!l0) return l0.error();
        auto l2 = shape_of("detail_head.2.weight", 2);
        if (!l2) return l2.error();
        const int64_t pixels = c.patch_volume();
        if ((*l0)[1] != c.dim + c.in_dim * pixels || (*l2)[0] != c.out_dim * pixels || (*l2)[1] != (*l0)[0])
            return core::fail("Wan DiT checkpoint: detail_head has shapes " + shape_str(*l0) + " and " +
                              shape_str(*l2) + ", expected [H, " + std::to_string(c.dim + c.in_dim * pixels) +
                              "] and [" + std::to_string(c.out_dim * pixels) + ", H]");
        c.detail_hidden = (*l0)[0];
    }
    // VACE: vace_patch_embedding [dim, vace_in_dim, pt, ph, pw] and vace_blocks.{n}.
    if (shapes.count(prefix + "vace_patch_embedding.weight")) {
        auto vpe = shape_of("vace_patch_embedding.weight", 5);
        if (!vpe) return vpe.error();
        c.vace_in_dim = (*vpe)[1];
        int64_t count = 0;
        while (shapes.count(prefix + "vace_blocks." + std::to_string(count) + ".after_proj.weight")) ++count;
        if (count == 0)
            return core::fail(
                "Wan DiT checkpoint: vace_patch_embedding without vace_blocks (truncated file?)");
        if (auto v = meta_field(metadata, "vace_layers")) {
            const auto j = nlohmann::json::parse(*v, nullptr, false);
            if (!j.is_array())
                return core::fail("Wan DiT metadata 'vace_layers' is not a list: '" + *v + "'");
            for (const auto& e : j) {
                if (!e.is_number_integer())
                    return core::fail("Wan DiT metadata 'vace_layers' holds a non-integer");
                c.vace_layers.push_back(e.get<int64_t>());
            }
        } else {
            if (c.num_layers % count != 0)
                return core::fail("Wan DiT checkpoint: " + std::to_string(count) + " vace blocks over " +
                                  std::to_string(c.num_layers) +
                                  " layers have no default placement: give metadata \"vace_layers\"");
            for (int64_t i = 0; i < c.num_layers; i += c.num_layers / count) c.vace_layers.push_back(i);
        }
        if (static_cast<int64_t>(c.vace_layers.size()) != count)
            return core::fail("Wan DiT checkpoint: " + std::to_string(count) +
                              " vace blocks but vace_layers lists " + std::to_string(c.vace_layers.size()));
    }
    if (c.vace_in_dim > 0) {
        c.model_type = "vace";  // the weights say so, whatever a copied base config's model_type says
    } else if (auto v = meta_field(metadata, "model_type")) {
        c.model_type = *v;
    } else if (c.emb_pos_len > 0) {
        c.model_type = "flf2v";
    } else if (c.image_cross_attn || c.in_dim == 36) {
        c.model_type = "i2v";  // in_dim 36 without img_emb: Wan2.2 i2v (y concatenated, no CLIP)
    } else {
        c.model_type = c.in_dim == 48 ? "ti2v" : "t2v";
    }
    FL_TRY(c.validate());
    return c;
}

core::Result<WanDiTConfig> WanDiTConfig::from_weights(const SafeTensorsFile& file,
                                                      const std::string& prefix) {
    return config_from_file<WanDiTConfig>(file, prefix);
}

core::Result<void> WanDiTConfig::validate() const {
    auto bad = [](const std::string& why) { return core::fail("invalid Wan DiT config: " + why); };
    const bool image_type = model_type == "i2v" || model_type == "flf2v";
    if (!image_type && model_type != "t2v" && model_type != "ti2v" && model_type != "vace")
        return bad("unknown model_type '" + model_type + "' (expected t2v, i2v, flf2v, ti2v or vace)");
    if ((model_type == "vace") != (vace_in_dim > 0))
        return bad("model_type vace goes with vace_patch_embedding (vace_in_dim " +
                   std::to_string(vace_in_dim) + ")");
    for (size_t i = 0; i < vace_layers.size(); ++i)
        if (vace_layers[i] < 0 || vace_layers[i] >= num_layers ||
            (i > 0 && vace_layers[i] <= vace_layers[i - 1]))
            return bad("vace_layers must be increasing block indices below " + std::to_string(num_layers));
    if (image_type && in_dim <= out_dim)
        return bad(model_type + " concatenates the image condition y to the noise, so in_dim (" +
                   std::to_string(in_dim) + ") must exceed out_dim (" + std::to_string(out_dim) + ")");
    if (image_cross_attn && !image_type)
        return bad("the checkpoint has img_emb (image cross-attention) but model_type is '" + model_type +
                   "'");
    if (model_type == "flf2v" && (!image_cross_attn || emb_pos_len <= 0))
        return bad("flf2v needs img_emb with emb_pos (first/last-frame CLIP tokens)");
    if (emb_pos_len > 0 && model_type != "flf2v")
        return bad("img_emb.emb_pos is only used by flf2v, not '" + model_type + "'");
    if (image_cross_attn && text_len != 512)
        return bad(
            "image cross-attention splits the context at its last 512 rows (hard-coded in the "
            "reference), so text_len must be 512, not " +
            std::to_string(text_len));
    if (image_cross_attn && clip_dim <= 0) return bad("clip_dim must be positive");
    if (dim <= 0 || ffn_dim <= 0 || freq_dim <= 0 || text_dim <= 0 || text_len <= 0 || in_dim <= 0 ||
        out_dim <= 0)
        return bad("every size must be positive");
    if (num_layers <= 0) return bad("num_layers must be at least 1");
    if (num_heads <= 0 || dim % num_heads != 0)
        return bad("dim " + std::to_string(dim) + " is not divisible by num_heads " +
                   std::to_string(num_heads) +
                   " (set metadata \"num_heads\" for checkpoints whose head_dim is not 128)");
    const int64_t d = head_dim();
    if (d % 2 != 0 || d < 6)
        return bad("head_dim " + std::to_string(d) + " must be even and at least 6 for the 3D RoPE split");
    if (freq_dim % 2 != 0)
        return bad("freq_dim " + std::to_string(freq_dim) + " must be even (cos/sin halves)");
    for (int64_t p : patch)
        if (p <= 0) return bad("patch sizes must be positive");
    if (!(eps > 0.0)) return bad("eps must be positive");
    return core::ok();
}

// ---------------------------------------------------------------------------------------------------------
// Modules, each named as the checkpoint keys.

namespace dit_detail {

/// Linear [out, in] + bias [out]; bf16 weights run the product in bf16. Uninitialised until loaded.
class ProjImpl : public torch::nn::Module {
public:
    ProjImpl(int64_t in, int64_t out) {
        weight = register_parameter("weight", torch::empty({out, in}));
        bias = register_parameter("bias", torch::empty({out}));
    }
    /// x: [..., in] → [..., out] in the weight dtype.
    torch::Tensor raw(const torch::Tensor& x) const {
        return torch::linear(x.to(weight.scalar_type()), weight, bias);
    }
    /// x: [..., in] → fp32 [..., out].
    torch::Tensor forward(const torch::Tensor& x) const { return raw(x).to(torch::kFloat); }
    void cast(torch::ScalarType dtype) {
        torch::NoGradGuard guard;
        weight.set_data(weight.to(dtype));
        bias.set_data(bias.to(dtype));
    }
    torch::Tensor weight, bias;
};
TORCH_MODULE(Proj);

/// Conv3d with kernel = stride = patch, run as patchify + matmul. weight [C, Cin, pt, ph, pw].
class PatchEmbedImpl : public torch::nn::Module {
public:
    PatchEmbedImpl(int64_t in, int64_t dim, const std::array<int64_t, 3>& p) {
        weight = register_parameter("weight", torch::empty({dim, in, p[0], p[1], p[2]}));
        bias = register_parameter("bias", torch::empty({dim}));
    }
    /// patches: [B, L, Cin·pt·ph·pw] in (c, pt, ph, pw) order → fp32 [B, L, C].
    torch::Tensor forward(const torch::Tensor& patches) const {
        return torch::linear(patches.to(weight.scalar_type()), weight.view({weight.size(0), -1}), bias)
            .to(torch::kFloat);
    }
    void cast(torch::ScalarType dtype) {
        torch::NoGradGuard guard;
        weight.set_data(weight.to(dtype));
        bias.set_data(bias.to(dtype));
    }
    torch::Tensor weight, bias;
};
TORCH_MODULE(PatchEmbed);

enum class Act { SiLU, GeluTanh };

/// Sequential(Linear, act, Linear) as keys `0` and `2` (text_embedding, time_embedding, ffn).
class MLPImpl : public torch::nn::Module {
public:
    MLPImpl(int64_t in, int64_t hidden, int64_t out, Act act) : act_(act) {
        l0 = register_module("0", Proj(in, hidden));
        l2 = register_module("2", Proj(hidden, out));
    }
    /// x: [..., in] → fp32 [..., out]; the hidden activation stays in the weights' dtype.
    torch::Tensor forward(const torch::Tensor& x) const {
        torch::Tensor h = l0->raw(x);
        h = act_ == Act::SiLU ? torch::silu(h) : torch::gelu(h, "tanh");
        return l2->forward(h);
    }
    void cast(torch::ScalarType dtype) {
        l0->cast(dtype);
        l2->cast(dtype);
    }
    Proj l0{nullptr}, l2{nullptr};

private:
    Act act_;
};
TORCH_MODULE(MLP);

/// Sequential(SiLU, Linear) as key `1` (time_projection).
class SiLUProjImpl : public torch::nn::Module {
public:
    SiLUProjImpl(int64_t in, int64_t out) { l1 = register_module("1", Proj(in, out)); }
    torch::Tensor forward(const torch::Tensor& x) const { return l1->forward(torch::silu(x)); }
    Proj l1{nullptr};
};
TORCH_MODULE(SiLUProj);

/// The timestep embedding, deduplicated: U distinct timesteps and each token's index into them.
struct TimeEmbedding {
    torch::Tensor e;    ///< [U, C] fp32
    torch::Tensor e0;   ///< [U, 6, C] fp32
    torch::Tensor idx;  ///< [B, Le] int64 into U (Le = 1 for a per-sample t, L for a per-token t)
};

/// Row j of a per-timestep table [U, k, C], gathered per token: [B, Le, C].
torch::Tensor gather_mod(const torch::Tensor& table, int64_t j, const torch::Tensor& idx) {
    return table.select(1, j)
        .index_select(0, idx.reshape({-1}))
        .view({idx.size(0), idx.size(1), table.size(2)});
}

/// Rows of the text context in i2v/flf2v cross-attention: the reference splits its context at Lc − 512 with
/// a literal 512 (T5_CONTEXT_TOKEN_NUMBER), whatever text_len is; validate() keeps text_len at 512.
constexpr int64_t kImageCrossAttnTextRows = 512;

/// Wan attention (self or cross): q, k, v, o with RMSNorm on q and k across all heads. With `image`
/// (i2v/flf2v cross-attention) also k_img, v_img, norm_k_img for the image rows of the context.
class AttentionImpl : public torch::nn::Module {
public:
    AttentionImpl(int64_t dim, int64_t heads, double eps, bool image = false) : heads_(heads) {
        q = register_module("q", Proj(dim, dim));
        k = register_module("k", Proj(dim, dim));
        v = register_module("v", Proj(dim, dim));
        o = register_module("o", Proj(dim, dim));
        norm_q = register_module("norm_q", RMSNorm(dim, eps));
        norm_k = register_module("norm_k", RMSNorm(dim, eps));
        if (image) {
            k_img = register_module("k_img", Proj(dim, dim));
            v_img = register_module("v_img", Proj(dim, dim));
            norm_k_img = register_module("norm_k_img", RMSNorm(dim, eps));
        }
    }
    /// x: [B, Lq, C], ctx: [B, Lk, C]; rope (self-attention only) rotates q and k → fp32 [B, Lq, C].
    /// With image parts, ctx is [B, Li + 512, C]: the first Li rows are image tokens, the last 512 text;
    /// both are attended with the same q and the two results summed before o.
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& ctx, const RopeTable* rope) const {
        const int64_t b = x.size(0), lq = x.size(1), c = x.size(2), d = c / heads_;
        torch::Tensor qh = norm_q->forward(q->raw(x)).view({b, lq, heads_, d});  // [B, Lq, n, d]
        if (rope) qh = rope_apply(qh, *rope);
        if (!k_img) {
            torch::Tensor kh = norm_k->forward(k->raw(ctx));  // [B, Lk, C]
            if (rope) kh = rope_apply(kh.view({b, ctx.size(1), heads_, d}), *rope);
            return o->forward(attend(qh, kh, v->raw(ctx)));
        }
        TORCH_CHECK(ctx.size(1) > kImageCrossAttnTextRows, "WanDiT: image cross-attention needs image rows ",
                    "before the ", kImageCrossAttnTextRows, " text rows, got ", ctx.size(1), " rows");
        const int64_t li = ctx.size(1) - kImageCrossAttnTextRows;
        const torch::Tensor img = ctx.narrow(1, 0, li), txt = ctx.narrow(1, li, kImageCrossAttnTextRows);
        const torch::Tensor out_txt = attend(qh, norm_k->forward(k->raw(txt)), v->raw(txt));
        const torch::Tensor out_img = attend(qh, norm_k_img->forward(k_img->raw(img)), v_img->raw(img));
        return o->forward(out_txt.to(torch::kFloat) + out_img.to(torch::kFloat));
    }
    void cast(torch::ScalarType dtype) {
        for (auto* p : {&q, &k, &v, &o, &k_img, &v_img})
            if (*p) (*p)->cast(dtype);
    }
    Proj q{nullptr}, k{nullptr}, v{nullptr}, o{nullptr}, k_img{nullptr}, v_img{nullptr};
    RMSNorm norm_q{nullptr}, norm_k{nullptr}, norm_k_img{nullptr};

private:
    /// qh: [B, Lq, n, d]; kh, vh: [B, Lk, ...] (any shape that views as [B, Lk, n, d]) → [B, Lq, C] in the
    /// weights' dtype.
    torch::Tensor attend(const torch::Tensor& qh, const torch::Tensor& kh, const torch::Tensor& vh) const {
        const int64_t b = qh.size(0), lq = qh.size(1), d = qh.size(3), lk = kh.size(1);
        const auto dt = q->weight.scalar_type();
        const torch::Tensor out =
            attention(qh.to(dt).transpose(1, 2), kh.reshape({b, lk, heads_, d}).to(dt).transpose(1, 2),
                      vh.reshape({b, lk, heads_, d}).to(dt).transpose(1, 2));  // [B, n, Lq, d]
        return out.transpose(1, 2).reshape({b, lq, heads_ * d});
    }
    int64_t heads_;
};
TORCH_MODULE(Attention);

/// WanAttentionBlock: modulated self-attention, affine-LN cross-attention (with image rows for
/// i2v/flf2v), modulated FFN.
class BlockImpl : public torch::nn::Module {
public:
    explicit BlockImpl(const WanDiTConfig& c) : eps_(c.eps) {
        modulation = register_parameter("modulation", torch::empty({1, 6, c.dim}));
        self_attn = register_module("self_attn", Attention(c.dim, c.num_heads, c.eps));
        norm3 = register_module("norm3", AffineLayerNorm(c.dim, c.eps));
        cross_attn = register_module("cross_attn", Attention(c.dim, c.num_heads, c.eps, c.image_cross_attn));
        ffn = register_module("ffn", MLP(c.dim, c.ffn_dim, c.dim, Act::GeluTanh));
    }
    /// x: [B, L, C] fp32; ctx: [B, text_len, C] (i2v/flf2v: [B, Li + 512, C]) → [B, L, C] fp32.
    torch::Tensor forward(torch::Tensor x, const TimeEmbedding& te, const torch::Tensor& ctx,
                          const RopeTable& rope) const {
        const torch::Tensor mod = modulation.to(torch::kFloat) + te.e0;  // [U, 6, C]
        auto m = [&](int64_t j) { return gather_mod(mod, j, te.idx); };  // [B, Le, C]
        const torch::Tensor none;
        const torch::Tensor xm = layer_norm_f32(x, none, none, eps_) * (1 + m(1)) + m(0);
        torch::Tensor y = self_attn->forward(xm, xm, &rope);
        x = x + y * m(2);
        x = x + cross_attn->forward(norm3->forward(x), ctx, nullptr);
        y = ffn->forward(layer_norm_f32(x, none, none, eps_) * (1 + m(4)) + m(3));
        return x + y * m(5);
    }
    torch::Tensor modulation;
    Attention self_attn{nullptr}, cross_attn{nullptr};
    AffineLayerNorm norm3{nullptr};
    MLP ffn{nullptr};

private:
    double eps_;
};
TORCH_MODULE(Block);

/// A VACE block: a main block's weights plus after_proj (every block) and before_proj (block 0 only).
class VaceBlockImpl : public BlockImpl {
public:
    VaceBlockImpl(const WanDiTConfig& c, bool first) : BlockImpl(c) {
        if (first) before_proj = register_module("before_proj", Proj(c.dim, c.dim));
        after_proj = register_module("after_proj", Proj(c.dim, c.dim));
    }
    Proj before_proj{nullptr}, after_proj{nullptr};
};
TORCH_MODULE(VaceBlock);

/// Head: LN (no affine) modulated by head.modulation + e (not e0), then Linear(dim, prod(patch)·out_dim).
class HeadImpl : public torch::nn::Module {
public:
    explicit HeadImpl(const WanDiTConfig& c) : eps_(c.eps) {
        modulation = register_parameter("modulation", torch::empty({1, 2, c.dim}));
        head = register_module("head", Proj(c.dim, c.out_dim * c.patch_volume()));
    }
    /// What the Linear `head` reads (→ fp32 [B, L, prod(patch)·out_dim]): the normalised tokens under the
    /// head's scale and shift, fp32 [B, L, C].
    torch::Tensor features(const torch::Tensor& x, const TimeEmbedding& te) const {
        const torch::Tensor mod = modulation.to(torch::kFloat) + te.e.unsqueeze(1);  // [U, 2, C]
        const torch::Tensor none;
        return layer_norm_f32(x, none, none, eps_) * (1 + gather_mod(mod, 1, te.idx)) + gather_mod(mod, 0, te.idx);
    }
    torch::Tensor modulation;
    Proj head{nullptr};

private:
    double eps_;
};
TORCH_MODULE(Head);

/// MLPProj (img_emb): proj = Sequential(LN(clip, eps 1e-5), Linear(clip, clip), GELU(erf), Linear(clip, dim),
/// LN(dim, eps 1e-5)) as keys proj.{0,1,3,4}; flf2v adds emb_pos [1, 514, clip] before proj.
class ImageEmbeddingImpl : public torch::nn::Module {
public:
    ImageEmbeddingImpl(int64_t clip_dim, int64_t dim, int64_t emb_pos_len) {
        auto seq = register_module("proj", std::make_shared<torch::nn::Module>());
        norm_in = seq->register_module("0", AffineLayerNorm(clip_dim, 1e-5));
        fc1 = seq->register_module("1", Proj(clip_dim, clip_dim));
        fc2 = seq->register_module("3", Proj(clip_dim, dim));
        norm_out = seq->register_module("4", AffineLayerNorm(dim, 1e-5));
        if (emb_pos_len > 0)
            emb_pos = register_parameter("emb_pos", torch::zeros({1, emb_pos_len, clip_dim}));
    }
    /// x: [B, Li, clip] (flf2v: Li = emb_pos rows) → fp32 [B, Li, dim].
    torch::Tensor forward(const torch::Tensor& x) const {
        torch::Tensor h = x.to(torch::kFloat);
        if (emb_pos.defined()) h = h + emb_pos.to(torch::kFloat);
        h = torch::gelu(fc1->forward(norm_in->forward(h)));  // exact erf GELU
        return norm_out->forward(fc2->forward(h));
    }
    void cast(torch::ScalarType dtype) {
        fc1->cast(dtype);
        fc2->cast(dtype);
    }
    AffineLayerNorm norm_in{nullptr}, norm_out{nullptr};
    Proj fc1{nullptr}, fc2{nullptr};
    torch::Tensor emb_pos;  ///< undefined unless flf2v
};
TORCH_MODULE(ImageEmbedding);

/// Float64 sinusoid, cos first: t [U] → [U, freq_dim] fp32.
torch::Tensor sinusoid(const torch::Tensor& t, int64_t freq_dim) {
    const int64_t half = freq_dim / 2;
    const auto f64 = torch::TensorOptions().dtype(torch::kDouble);
    const torch::Tensor omega =
        torch::pow(10000.0, -torch::arange(half, f64.device(t.device())).div(static_cast<double>(half)));
    const torch::Tensor angles = torch::outer(t.to(torch::kDouble), omega);  // [U, half]
    return torch::cat({torch::cos(angles), torch::sin(angles)}, 1).to(torch::kFloat);
}

}  // namespace dit_detail

using namespace dit_detail;

struct WanDiTImpl::Parts {
    PatchEmbed patch_embedding{nullptr};
    MLP text_embedding{nullptr};
    Proj text_pooling{nullptr};  // pooled_text only
    MLP time_embedding{nullptr};
    SiLUProj time_projection{nullptr};
    std::vector<Block> blocks;
    Head head{nullptr};
    MLP detail_head{nullptr};         // detail_hidden > 0 only
    ImageEmbedding img_emb{nullptr};  // i2v/flf2v only
    PatchEmbed vace_patch_embedding{nullptr};  // VACE only
    std::vector<VaceBlock> vace_blocks;
};

WanDiTImpl::WanDiTImpl(const WanDiTConfig& config, bool initialise)
    : config_(config), parts_(std::make_shared<Parts>()) {
    const auto& c = config_;
    auto& p = *parts_;
    p.patch_embedding = register_module("patch_embedding", PatchEmbed(c.in_dim, c.dim, c.patch));
    p.text_embedding = register_module("text_embedding", MLP(c.text_dim, c.dim, c.dim, Act::GeluTanh));
    if (c.pooled_text) p.text_pooling = register_module("text_pooling", Proj(c.text_dim, c.dim));
    p.time_embedding = register_module("time_embedding", MLP(c.freq_dim, c.dim, c.dim, Act::SiLU));
    p.time_projection = register_module("time_projection", SiLUProj(c.dim, 6 * c.dim));
    auto list = register_module("blocks", torch::nn::ModuleList());
    for (int64_t i = 0; i < c.num_layers; ++i) {
        p.blocks.push_back(Block(c));
        list->push_back(p.blocks.back());
    }
    p.head = register_module("head", Head(c));
    if (c.detail_hidden > 0)
        p.detail_head =
            register_module("detail_head", MLP(c.dim + c.in_dim * c.patch_volume(), c.detail_hidden,
                                               c.out_dim * c.patch_volume(), Act::GeluTanh));
    if (c.image_cross_attn)
        p.img_emb = register_module("img_emb", ImageEmbedding(c.clip_dim, c.dim, c.emb_pos_len));
    if (c.vace_in_dim > 0) {
        p.vace_patch_embedding =
            register_module("vace_patch_embedding", PatchEmbed(c.vace_in_dim, c.dim, c.patch));
        auto vace = register_module("vace_blocks", torch::nn::ModuleList());
        for (size_t i = 0; i < c.vace_layers.size(); ++i) {
            p.vace_blocks.push_back(VaceBlock(c, i == 0));
            vace->push_back(p.vace_blocks.back());
        }
    }
    if (initialise) init_weights();
}

void WanDiTImpl::init_weights() {
    torch::NoGradGuard no_grad;
    namespace init = torch::nn::init;
    auto& p = *parts_;
    auto xavier = [](Proj& l) {
        init::xavier_uniform_(l->weight);
        init::zeros_(l->bias);
    };
    auto small_normal = [](Proj& l) {
        init::normal_(l->weight, 0.0, 0.02);
        init::zeros_(l->bias);
    };
    // patch_embedding: xavier on weight.flatten(1); bias keeps Conv3d's default U(±1/√fan_in).
    auto& pe = p.patch_embedding;
    init::xavier_uniform_(pe->weight.view({pe->weight.size(0), -1}));
    const double bound = 1.0 / std::sqrt(static_cast<double>(pe->weight.numel() / pe->weight.size(0)));
    init::uniform_(pe->bias, -bound, bound);
    small_normal(p.text_embedding->l0);
    small_normal(p.text_embedding->l2);
    if (p.text_pooling) {  // zero: a model given the path first behaves exactly as one without it
        init::zeros_(p.text_pooling->weight);
        init::zeros_(p.text_pooling->bias);
    }
    small_normal(p.time_embedding->l0);
    small_normal(p.time_embedding->l2);
    xavier(p.time_projection->l1);
    const double mod_std = 1.0 / std::sqrt(static_cast<double>(config_.dim));
    // Main and VACE blocks alike: modulation N(0, 1/dim), Linears xavier, norms unit.
    const auto init_block = [&](BlockImpl& b) {
        init::normal_(b.modulation, 0.0, mod_std);
        for (auto* a : {&b.self_attn, &b.cross_attn}) {
            for (auto* l : {&(*a)->q, &(*a)->k, &(*a)->v, &(*a)->o, &(*a)->k_img, &(*a)->v_img})
                if (*l) xavier(*l);
            for (auto* n : {&(*a)->norm_q, &(*a)->norm_k, &(*a)->norm_k_img})
                if (*n) init::ones_((*n)->weight);
        }
        init::ones_(b.norm3->weight);
        init::zeros_(b.norm3->bias);
        xavier(b.ffn->l0);
        xavier(b.ffn->l2);
    };
    for (auto& b : p.blocks) init_block(*b);
    init::normal_(p.head->modulation, 0.0, mod_std);
    init::zeros_(p.head->head->weight);
    init::zeros_(p.head->head->bias);
    if (p.detail_head) {  // zero output: a model given the path first behaves exactly as one without it
        xavier(p.detail_head->l0);
        init::zeros_(p.detail_head->l2->weight);
        init::zeros_(p.detail_head->l2->bias);
    }
    if (p.vace_patch_embedding) {  // as the main embedding and blocks; the hint projections start at zero
        auto& vpe = p.vace_patch_embedding;
        init::xavier_uniform_(vpe->weight.view({vpe->weight.size(0), -1}));
        init::zeros_(vpe->bias);
        for (auto& vb : p.vace_blocks) {
            init_block(*vb);
            for (auto* l : {&vb->before_proj, &vb->after_proj}) {
                if (!*l) continue;
                init::zeros_((*l)->weight);
                init::zeros_((*l)->bias);
            }
        }
    }
    if (p.img_emb) {  // Linears xavier (as every nn.Linear in the reference), LNs unit, emb_pos zero
        xavier(p.img_emb->fc1);
        xavier(p.img_emb->fc2);
        for (auto* n : {&p.img_emb->norm_in, &p.img_emb->norm_out}) {
            init::ones_((*n)->weight);
            init::zeros_((*n)->bias);
        }
        if (p.img_emb->emb_pos.defined()) init::zeros_(p.img_emb->emb_pos);
    }
}

void WanDiTImpl::set_precision(DiTPrecision precision) {
    const auto dtype = precision == DiTPrecision::BF16 ? torch::kBFloat16 : torch::kFloat;
    auto& p = *parts_;
    p.patch_embedding->cast(dtype);
    p.text_embedding->cast(dtype);
    if (p.img_emb) p.img_emb->cast(dtype);
    const auto cast_block = [&](BlockImpl& b) {
        b.self_attn->cast(dtype);
        b.cross_attn->cast(dtype);
        b.ffn->cast(dtype);
    };
    for (auto& b : p.blocks) cast_block(*b);
    if (p.vace_patch_embedding) p.vace_patch_embedding->cast(dtype);
    for (auto& b : p.vace_blocks) {
        cast_block(*b);
        for (auto* l : {&b->before_proj, &b->after_proj})
            if (*l) (*l)->cast(dtype);
    }
    precision_ = precision;
}

void WanDiTImpl::offload_blocks_to(torch::Device device) {
    auto& p = *parts_;
    for (const auto& child : named_children()) {
        if (child.key() == "blocks" || child.key() == "vace_blocks") continue;
        child.value()->to(device);
    }
    for (auto& b : p.blocks) b->to(torch::kCPU);
    for (auto& b : p.vace_blocks) b->to(torch::kCPU);
    offload_device_ = device;
}

torch::Tensor WanDiTImpl::embed_image(const torch::Tensor& clip_fea) const {
    torch::NoGradGuard no_grad;
    const auto& c = config_;
    TORCH_CHECK(parts_->img_emb, "WanDiT: this ", c.model_type, " checkpoint has no img_emb (no CLIP input)");
    TORCH_CHECK(clip_fea.dim() == 3 && clip_fea.size(2) == c.clip_dim, "WanDiT: clip_fea must be [B, L, ",
                c.clip_dim, "], got ", clip_fea.sizes());
    torch::Tensor fea = clip_fea;
    if (c.emb_pos_len > 0) {  // flf2v: the two frames' tokens of a sample side by side, [B, 514, clip]
        TORCH_CHECK(clip_fea.size(0) * clip_fea.size(1) % c.emb_pos_len == 0, "WanDiT: flf2v clip_fea ",
                    clip_fea.sizes(), " does not hold whole samples of ", c.emb_pos_len, " tokens");
        fea = clip_fea.reshape({-1, c.emb_pos_len, c.clip_dim});
    }
    const auto& mod = parts_->img_emb;
    return mod->forward(fea.to(mod->fc1->weight.device()));
}

torch::Tensor WanDiTImpl::forward(const torch::Tensor& x, const torch::Tensor& t,
                                  const torch::Tensor& context) {
    return forward(x, t, context, torch::Tensor(), torch::Tensor());
}

torch::Tensor WanDiTImpl::forward(const torch::Tensor& x, const torch::Tensor& t,
                                  const torch::Tensor& context, const torch::Tensor& clip_fea,
                                  const torch::Tensor& y) {
    return forward(x, t, context, clip_fea, y, torch::Tensor());
}

torch::Tensor WanDiTImpl::forward(const torch::Tensor& x_in, const torch::Tensor& t,
                                  const torch::Tensor& context, const torch::Tensor& clip_fea,
                                  const torch::Tensor& y, const torch::Tensor& vace_context,
                                  double vace_scale) {
    // No NoGradGuard here: the trainer differentiates through the forward; inference callers disable grad.
    const auto& c = config_;
    const auto& p = *parts_;
    torch::Tensor x = x_in;
    if (y.defined()) {  // i2v/flf2v: cat(noise, y) on channels, y = (mask 4, image latent 16)
        TORCH_CHECK(x_in.dim() == 5 && y.dim() == 5 && (y.size(0) == x_in.size(0) || y.size(0) == 1) &&
                        y.sizes().slice(2).equals(x_in.sizes().slice(2)),
                    "WanDiT: y must be [B or 1, C, F, H, W] matching x ", x_in.sizes(), ", got ", y.sizes());
        x = torch::cat({x_in, y.to(x_in.device(), x_in.scalar_type()).expand({x_in.size(0), -1, -1, -1, -1})},
                       1);
    }
    TORCH_CHECK(x.dim() == 5 && x.size(1) == c.in_dim, "WanDiT: x (with y) must be [B, ", c.in_dim,
                ", F, H, W], got ", x.sizes());
    const int64_t b = x.size(0);
    const torch::Device device = x.device();  // everything follows the latent (CPU or CUDA)
    const auto [pt, ph, pw] = c.patch;
    TORCH_CHECK(x.size(2) % pt == 0 && x.size(3) % ph == 0 && x.size(4) % pw == 0, "WanDiT: latent size ",
                x.sizes(), " is not divisible by the patch (", pt, ", ", ph, ", ", pw, ")");
    const int64_t f = x.size(2) / pt, h = x.size(3) / ph, w = x.size(4) / pw, l = f * h * w;

    // Patchify: [B, Cin, F, H, W] → [B, L, Cin·pt·ph·pw] in the Conv3d weight's (c, pt, ph, pw) order.
    const auto patchify = [&](const torch::Tensor& v) {
        const int64_t ch = v.size(1);
        return v.to(device, torch::kFloat)
            .contiguous()
            .view({b, ch, f, pt, h, ph, w, pw})
            .permute({0, 2, 4, 6, 1, 3, 5, 7})
            .reshape({b, l, ch * pt * ph * pw});
    };
    const torch::Tensor pixels = patchify(x);  // [B, L, Cin·pt·ph·pw]
    torch::Tensor tokens = p.patch_embedding->forward(pixels);  // [B, L, C]

    // Timesteps: [B] (one per sample) or [B, ≥L] (per token, Wan2.2); deduplicated before embedding.
    torch::Tensor tt;
    const torch::Tensor td = t.to(device);
    if (t.dim() == 1) {
        TORCH_CHECK(t.size(0) == b || t.size(0) == 1, "WanDiT: t must be [B] or [B, L], got ", t.sizes());
        tt = td.view({-1, 1}).expand({b, 1});
    } else {
        TORCH_CHECK(t.dim() == 2 && (t.size(0) == b || t.size(0) == 1) && t.size(1) >= l,
                    "WanDiT: per-token t must be [B, L] with L ≥ ", l, ", got ", t.sizes());
        tt = td.narrow(1, 0, l).expand({b, l});
    }
    const auto uniq =
        at::_unique2(tt.reshape({-1}).to(torch::kDouble), /*sorted=*/true, /*return_inverse=*/true);
    TimeEmbedding te;
    te.e = p.time_embedding->forward(sinusoid(std::get<0>(uniq), c.freq_dim));  // [U, C]
    te.idx = std::get<1>(uniq).view({b, tt.size(1)});
    // One timestep everywhere (t2v, CFG pairs, ti2v in text-to-video mode): broadcast instead of gathering.
    if (te.e.size(0) == 1) te.idx = te.idx.narrow(1, 0, 1);

    // Context: [B, Lc, text_dim] zero-padded to text_len rows, all of them attended (no mask).
    TORCH_CHECK(context.dim() == 3 && context.size(0) == b && context.size(2) == c.text_dim &&
                    context.size(1) <= c.text_len,
                "WanDiT: context must be [B, ≤", c.text_len, ", ", c.text_dim, "], got ", context.sizes());
    if (p.text_pooling) {
        // Pooled text: the mean of the prompt's rows (the non-zero ones) through text_pooling, added to each
        // sample's e, so the table becomes one row per (sample, timestep column).
        const torch::Tensor rows = context.to(device, torch::kFloat);
        const torch::Tensor used = rows.abs().sum(2, /*keepdim=*/true).gt(0).to(torch::kFloat);  // [B, Lc, 1]
        const torch::Tensor mean = (rows * used).sum(1) / used.sum(1).clamp_min(1.0);  // [B, text_dim]
        const int64_t le = te.idx.size(1);
        te.e = (te.e.index_select(0, te.idx.reshape({-1})).view({b, le, c.dim}) +
                p.text_pooling->forward(mean).unsqueeze(1))
                   .reshape({b * le, c.dim});
        te.idx =
            torch::arange(b * le, torch::TensorOptions().dtype(torch::kLong).device(device)).view({b, le});
    }
    te.e0 = p.time_projection->forward(te.e).view({-1, 6, c.dim});  // [U, 6, C], once per row of e
    torch::Tensor ctx = torch::zeros({b, c.text_len, c.text_dim}, x.options().dtype(torch::kFloat));
    ctx.narrow(1, 0, context.size(1)).copy_(context);
    ctx = p.text_embedding->forward(ctx);  // [B, text_len, C]
    if (c.image_cross_attn) {              // image rows first: [B, Li + text_len, C]
        TORCH_CHECK(clip_fea.defined(), "WanDiT: this ", c.model_type,
                    " model needs CLIP features (clip_fea)");
        torch::Tensor img = embed_image(clip_fea).to(device);  // [B or 1, Li, C]
        TORCH_CHECK(img.size(0) == b || img.size(0) == 1, "WanDiT: clip_fea holds ", img.size(0),
                    " samples for a batch of ", b);
        ctx = torch::cat({img.expand({b, -1, -1}), ctx}, 1);
    } else {
        TORCH_CHECK(!clip_fea.defined(), "WanDiT: this ", c.model_type,
                    " checkpoint has no img_emb, so it takes no clip_fea");
    }

    RopeTable rope = rope_table_3d(c.head_dim(), {f, h, w});
    rope.cos = rope.cos.to(device);
    rope.sin = rope.sin.to(device);
    // Offloaded blocks (offload_blocks_to) come to the device for their turn and go back after it.
    const bool offloaded = offload_device_ && *offload_device_ != torch::Device(torch::kCPU);
    const auto bring = [&](torch::nn::Module& block) {
        if (offloaded) block.to(*offload_device_);
    };
    const auto send_back = [&](torch::nn::Module& block) {
        if (offloaded) block.to(torch::kCPU);
    };
    // VACE: the context's tokens, seeded with the patch-embedded x, through the vace blocks; each block's
    // after_proj output is the hint added after its main block.
    std::vector<torch::Tensor> hints;
    if (vace_context.defined()) {
        TORCH_CHECK(c.vace_in_dim > 0, "WanDiT: this ", c.model_type, " checkpoint has no VACE blocks");
        TORCH_CHECK(vace_context.dim() == 5 && vace_context.size(1) == c.vace_in_dim &&
                        (vace_context.size(0) == b || vace_context.size(0) == 1) &&
                        vace_context.sizes().slice(2).equals(x.sizes().slice(2)),
                    "WanDiT: vace_context must be [B or 1, ", c.vace_in_dim, ", F, H, W] matching x ",
                    x.sizes(), ", got ", vace_context.sizes());
        torch::Tensor ct =
            p.vace_patch_embedding->forward(patchify(vace_context.expand({b, -1, -1, -1, -1})));
        for (size_t i = 0; i < p.vace_blocks.size(); ++i) {
            auto& vb = *p.vace_blocks[i].ptr();
            bring(vb);
            if (i == 0) ct = vb.before_proj->forward(ct) + tokens;
            ct = vb.forward(ct, te, ctx, rope);
            hints.push_back(vb.after_proj->forward(ct));
            send_back(vb);
        }
    }
    size_t next_hint = 0;
    for (size_t i = 0; i < p.blocks.size(); ++i) {
        auto& block = *p.blocks[i].ptr();
        bring(block);
        tokens = block.forward(tokens, te, ctx, rope);
        send_back(block);
        if (next_hint < hints.size() && c.vace_layers[next_hint] == static_cast<int64_t>(i))
            tokens = tokens + hints[next_hint++] * vace_scale;
    }
    const torch::Tensor features = p.head->features(tokens, te);
    torch::Tensor out = p.head->head->forward(features);  // [B, L, pt·ph·pw·Cout]
    if (p.detail_head) out = out + p.detail_head->forward(torch::cat({features, pixels}, 2));

    // Unpatchify: channel index (pt, ph, pw, c) → [B, Cout, F, H, W].
    return out.view({b, f, h, w, pt, ph, pw, c.out_dim})
        .permute({0, 7, 1, 4, 2, 5, 3, 6})
        .reshape({b, c.out_dim, f * pt, h * ph, w * pw});
}

}  // namespace fl::inference::wan
