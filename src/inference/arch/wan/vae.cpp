#include "inference/arch/wan/vae.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>

#include "inference/arch/wan/config_util.h"
#include "inference/arch/wan/vae22.h"

namespace fl::inference::wan {

// ---------------------------------------------------------------------------------------------------------
// Latent statistics

std::vector<double> wan_latent_mean(int64_t z_dim) {
    if (z_dim == 16)
        return {-0.7571, -0.7089, -0.9113, 0.1075,  -0.1745, 0.9653,  -0.1517, 1.5508,
                0.4134,  -0.0715, 0.5517,  -0.3632, -0.1922, -0.9497, 0.2503,  -0.2921};
    if (z_dim == 48)
        return {-0.2289, -0.0052, -0.1323, -0.2339, -0.2799, 0.0174,  0.1838,  0.1557,  -0.1382, 0.0542,
                0.2813,  0.0891,  0.1570,  -0.0098, 0.0375,  -0.1825, -0.2246, -0.1207, -0.0698, 0.5109,
                0.2665,  -0.2108, -0.2158, 0.2502,  -0.2055, -0.0322, 0.1109,  0.1567,  -0.0729, 0.0899,
                -0.2799, -0.1230, -0.0313, -0.1649, 0.0117,  0.0723,  -0.2839, -0.2083, -0.0520, 0.3748,
                0.0152,  0.1957,  0.1433,  -0.2944, 0.3573,  -0.0548, -0.1681, -0.0667};
    return {};
}

std::vector<double> wan_latent_std(int64_t z_dim) {
    if (z_dim == 16)
        return {2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743,
                3.2687, 2.1526, 2.8652, 1.5579, 1.6382, 1.1253, 2.8251, 1.9160};
    if (z_dim == 48)
        return {0.4765, 1.0364, 0.4514, 1.1677, 0.5313, 0.4990, 0.4818, 0.5013, 0.8158, 1.0344,
                0.5894, 1.0901, 0.6885, 0.6165, 0.8454, 0.4978, 0.5759, 0.3523, 0.7135, 0.6804,
                0.5833, 1.4146, 0.8986, 0.5659, 0.7069, 0.5338, 0.4889, 0.4917, 0.4069, 0.4999,
                0.6866, 0.4093, 0.5709, 0.6065, 0.6415, 0.4944, 0.5726, 1.2042, 0.5458, 1.6887,
                0.3971, 1.0600, 0.3943, 0.5537, 0.5444, 0.4089, 0.7468, 0.7744};
    return {};
}

namespace {

torch::Tensor stat_tensor(const std::vector<double>& v, const torch::Tensor& like) {
    // Built in fp32 like the reference's torch.tensor(mean, dtype=float), then moved to the latent.
    return torch::tensor(v, torch::kDouble)
        .to(torch::kFloat)
        .to(like.device(), like.scalar_type())
        .view({1, static_cast<int64_t>(v.size()), 1, 1, 1});
}

}  // namespace

torch::Tensor normalise_latent(const torch::Tensor& mu, const WanVAEConfig& c) {
    const torch::Tensor inv_std = stat_tensor(c.latent_std, mu).reciprocal();  // scale[1] = 1/std
    return (mu - stat_tensor(c.latent_mean, mu)) * inv_std;
}

torch::Tensor denormalise_latent(const torch::Tensor& z, const WanVAEConfig& c) {
    const torch::Tensor inv_std = stat_tensor(c.latent_std, z).reciprocal();
    return z / inv_std + stat_tensor(c.latent_mean, z);
}

torch::Tensor clamp_video(const torch::Tensor& video) { return video.clamp(-1.0, 1.0); }

// ---------------------------------------------------------------------------------------------------------
// Config

namespace vae_detail {

std::string find_prefix(const ShapeMap& shapes, const std::string& anchor, const std::string& given) {
    if (!given.empty() || shapes.count(anchor)) return given;
    for (const auto& [name, shape] : shapes)
        if (name.size() > anchor.size() && name.ends_with("." + anchor))
            return name.substr(0, name.size() - anchor.size());
    return given;
}

namespace {

// The metadata "config" JSON, or null.
nlohmann::json config_json(const std::map<std::string, std::string>& metadata) {
    auto it = metadata.find("config");
    if (it == metadata.end()) return nullptr;
    nlohmann::json j = nlohmann::json::parse(it->second, nullptr, /*allow_exceptions=*/false);
    return j.is_object() ? j : nlohmann::json(nullptr);
}

// A list of numbers from metadata key `key` (a JSON array as text), else the same field in "config".
std::optional<std::vector<double>> meta_numbers(const std::map<std::string, std::string>& metadata,
                                                const std::string& key) {
    nlohmann::json v;
    if (auto it = metadata.find(key); it != metadata.end()) {
        v = nlohmann::json::parse(it->second, nullptr, /*allow_exceptions=*/false);
    } else if (const auto cfg = config_json(metadata); cfg.is_object() && cfg.contains(key)) {
        v = cfg.at(key);
    }
    if (!v.is_array()) return std::nullopt;
    std::vector<double> out;
    for (const auto& x : v) {
        if (!x.is_number()) return std::nullopt;
        out.push_back(x.get<double>());
    }
    return out;
}

}  // namespace

core::Result<void> apply_metadata(WanVAEConfig& c, const std::map<std::string, std::string>& metadata) {
    const nlohmann::json j = config_json(metadata);
    if (!j.is_object()) return core::ok();
    auto bad = [](const std::string& key) {
        return core::fail("Wan VAE metadata config: '" + key + "' has the wrong type");
    };
    auto int_field = [&](const char* key, int64_t& out) -> core::Result<void> {
        if (!j.contains(key)) return core::ok();
        if (!j.at(key).is_number_integer()) return bad(key);
        out = j.at(key).get<int64_t>();
        return core::ok();
    };
    FL_TRY(int_field("dim", c.dim));
    FL_TRY(int_field("dec_dim", c.dec_dim));
    FL_TRY(int_field("z_dim", c.z_dim));
    FL_TRY(int_field("num_res_blocks", c.num_res_blocks));
    if (j.contains("dim_mult")) {
        if (!j.at("dim_mult").is_array()) return bad("dim_mult");
        c.dim_mult.clear();
        for (const auto& v : j.at("dim_mult")) {
            if (!v.is_number_integer()) return bad("dim_mult");
            c.dim_mult.push_back(v.get<int64_t>());
        }
    }
    if (j.contains("attn_scales")) {
        if (!j.at("attn_scales").is_array()) return bad("attn_scales");
        c.attn_scales.clear();
        for (const auto& v : j.at("attn_scales")) {
            if (!v.is_number()) return bad("attn_scales");
            c.attn_scales.push_back(v.get<double>());
        }
    }
    if (j.contains("temperal_downsample")) {
        if (!j.at("temperal_downsample").is_array()) return bad("temperal_downsample");
        c.temperal_downsample.clear();
        for (const auto& v : j.at("temperal_downsample")) {
            if (!v.is_boolean()) return bad("temperal_downsample");
            c.temperal_downsample.push_back(v.get<bool>());
        }
    }
    if (c.layout == WanVAEConfig::Layout::Wan21) c.dec_dim = c.dim;
    return core::ok();
}

}  // namespace vae_detail

using vae_detail::ShapeMap;

int64_t WanVAEConfig::stride_t() const {
    int64_t s = 1;
    for (size_t i = 0; i + 1 < dim_mult.size() && i < temperal_downsample.size(); ++i)
        if (temperal_downsample[i]) s *= 2;
    return s;
}

core::Result<void> WanVAEConfig::check_video(int64_t frames, int64_t height, int64_t width) const {
    const std::string what = layout == Layout::Wan22 ? "Wan2.2 VAE" : "Wan VAE";
    const int64_t st = stride_t(), ss = stride_s();
    if (frames < 1 || (frames - 1) % st != 0)
        return core::fail(what + ": " + std::to_string(frames) +
                          " frames cannot be encoded: the frame count must be " + std::to_string(st) +
                          "n+1 (1, " + std::to_string(1 + st) + ", " + std::to_string(1 + 2 * st) +
                          ", …, e.g. " + std::to_string(1 + 20 * st) + ")");
    if (height < ss || width < ss || height % ss != 0 || width % ss != 0)
        return core::fail(what + ": size " + std::to_string(width) + "x" + std::to_string(height) +
                          " cannot be encoded: width and height must be multiples of " + std::to_string(ss));
    return core::ok();
}

core::Result<void> WanVAEConfig::resolve_latent_stats(const std::map<std::string, std::string>& metadata) {
    if (latent_mean.empty()) {
        if (auto v = vae_detail::meta_numbers(metadata, "latent_mean"))
            latent_mean = *v;
        else
            latent_mean = wan_latent_mean(z_dim);
    }
    if (latent_std.empty()) {
        if (auto v = vae_detail::meta_numbers(metadata, "latent_std"))
            latent_std = *v;
        else
            latent_std = wan_latent_std(z_dim);
    }
    // Other latent widths (tiny test models) without statistics: the identity normalisation.
    if (latent_mean.empty()) latent_mean.assign(static_cast<size_t>(z_dim), 0.0);
    if (latent_std.empty()) latent_std.assign(static_cast<size_t>(z_dim), 1.0);
    return validate();
}

core::Result<void> WanVAEConfig::validate() const {
    auto bad = [](const std::string& why) { return core::fail("invalid Wan VAE config: " + why); };
    if (dim <= 0 || dec_dim <= 0 || z_dim <= 0 || num_res_blocks <= 0)
        return bad("every size must be positive");
    if (dim_mult.size() < 2) return bad("dim_mult needs at least two stages");
    for (int64_t m : dim_mult)
        if (m <= 0) return bad("dim_mult entries must be positive");
    if (temperal_downsample.size() + 1 < dim_mult.size())
        return bad("temperal_downsample needs one flag per down-sampling stage (" +
                   std::to_string(dim_mult.size() - 1) + ")");
    if (patch != (layout == Layout::Wan22 ? 2 : 1)) return bad("patch must be 1 (Wan2.1) or 2 (Wan2.2)");
    if (layout == Layout::Wan21) {
        for (size_t i = 0; i < dim_mult.size(); ++i)
            if ((dim * dim_mult[i]) % 2 != 0) return bad("Wan2.1 decoder widths must be even");
    } else if (!attn_scales.empty()) {
        return bad("the Wan2.2 layout has no attention in its stages (attn_scales must be empty)");
    }
    if (!latent_mean.empty() && static_cast<int64_t>(latent_mean.size()) != z_dim)
        return bad("latent_mean has " + std::to_string(latent_mean.size()) + " values for z_dim " +
                   std::to_string(z_dim));
    if (!latent_std.empty() && static_cast<int64_t>(latent_std.size()) != z_dim)
        return bad("latent_std has " + std::to_string(latent_std.size()) + " values for z_dim " +
                   std::to_string(z_dim));
    for (double s : latent_std)
        if (!(s != 0.0)) return bad("latent_std values must be non-zero");
    return core::ok();
}

core::Result<WanVAEConfig> WanVAEConfig::from_shapes(const ShapeMap& shapes,
                                                     const std::map<std::string, std::string>& metadata,
                                                     const std::string& prefix_in) {
    const std::string prefix = vae_detail::find_prefix(shapes, "encoder.conv1.weight", prefix_in);
    auto shape = [&](const std::string& key) -> const std::vector<int64_t>* {
        auto it = shapes.find(prefix + key);
        return it == shapes.end() ? nullptr : &it->second;
    };
    auto missing = [&](const std::string& key) {
        return core::fail("not a Wan2.1 VAE checkpoint: tensor '" + prefix + key + "' is missing");
    };
    if (shape("encoder.downsamples.0.downsamples.0.residual.0.gamma"))
        return core::fail(
            "this is a Wan2.2 VAE checkpoint (encoder.downsamples.0.downsamples.…): use codec \"wan22-vae\"");
    WanVAEConfig c;
    c.prefix = prefix;
    const auto* conv1 = shape("encoder.conv1.weight");
    if (!conv1 || conv1->size() != 5) return missing("encoder.conv1.weight");
    if ((*conv1)[1] != 3)
        return core::fail("not a Wan2.1 VAE checkpoint: encoder.conv1 takes " + std::to_string((*conv1)[1]) +
                          " channels, expected 3");
    c.dim = (*conv1)[0];
    const auto* conv2 = shape("conv2.weight");
    if (!conv2 || conv2->empty()) return missing("conv2.weight");
    c.z_dim = (*conv2)[0];

    // Walk encoder.downsamples.N: ResidualBlocks, AttentionBlocks and Resamples; a Resample ends a stage.
    c.dim_mult.clear();
    c.temperal_downsample.clear();
    c.attn_scales.clear();
    int64_t res_in_stage = 0, first_stage_res = -1, stage_out = c.dim;
    double scale = 1.0;
    for (int64_t n = 0;; ++n) {
        const std::string k = "encoder.downsamples." + std::to_string(n) + ".";
        if (const auto* r = shape(k + "residual.2.weight")) {
            ++res_in_stage;
            stage_out = (*r)[0];
        } else if (shape(k + "norm.gamma")) {
            if (c.attn_scales.empty() || c.attn_scales.back() != scale) c.attn_scales.push_back(scale);
        } else if (shape(k + "resample.1.weight")) {
            if (first_stage_res < 0) first_stage_res = res_in_stage;
            c.dim_mult.push_back(stage_out / c.dim);
            c.temperal_downsample.push_back(shape(k + "time_conv.weight") != nullptr);
            res_in_stage = 0;
            scale /= 2.0;
        } else {
            break;
        }
    }
    if (res_in_stage == 0) return missing("encoder.downsamples.0.residual.2.weight");
    c.dim_mult.push_back(stage_out / c.dim);
    c.num_res_blocks = first_stage_res < 0 ? res_in_stage : first_stage_res;
    c.dec_dim = c.dim;
    FL_TRY(vae_detail::apply_metadata(c, metadata));
    FL_TRY(c.resolve_latent_stats(metadata));
    return c;
}

core::Result<WanVAEConfig> WanVAEConfig::from_weights(const SafeTensorsFile& file,
                                                      const std::string& prefix) {
    return config_from_file<WanVAEConfig>(file, prefix);
}

// ---------------------------------------------------------------------------------------------------------
// Module

namespace {

using K3 = std::array<int64_t, 3>;

bool has_scale(const std::vector<double>& scales, double s) {
    for (double v : scales)
        if (v == s) return true;
    return false;
}

// Wan2.1 encoder list: per stage num_res_blocks ResidualBlocks (+ attention at attn_scales), then a Resample.
std::vector<std::shared_ptr<VAELayer>> wan21_encoder_layers(const WanVAEConfig& c) {
    std::vector<std::shared_ptr<VAELayer>> out;
    const size_t stages = c.dim_mult.size();
    double scale = 1.0;
    int64_t in = c.dim;
    for (size_t i = 0; i < stages; ++i) {
        const int64_t width = c.dim * c.dim_mult[i];
        for (int64_t r = 0; r < c.num_res_blocks; ++r) {
            out.push_back(std::make_shared<ResidualBlock>(in, width));
            if (has_scale(c.attn_scales, scale)) out.push_back(std::make_shared<AttentionBlock>(width));
            in = width;
        }
        if (i + 1 != stages) {
            out.push_back(std::make_shared<Resample>(
                width, width,
                c.temperal_downsample[i] ? Resample::Mode::Downsample3d : Resample::Mode::Downsample2d));
            scale /= 2.0;
        }
    }
    return out;
}

// Wan2.1 decoder list: per stage num_res_blocks+1 ResidualBlocks, then an up-sampling Resample halving C.
std::vector<std::shared_ptr<VAELayer>> wan21_decoder_layers(const WanVAEConfig& c) {
    std::vector<std::shared_ptr<VAELayer>> out;
    const size_t stages = c.dim_mult.size();
    std::vector<int64_t> dims{c.dim * c.dim_mult.back()};
    for (size_t i = stages; i-- > 0;) dims.push_back(c.dim * c.dim_mult[i]);
    double scale = 1.0 / std::pow(2.0, static_cast<double>(stages) - 2.0);
    for (size_t i = 0; i < stages; ++i) {
        int64_t in = i == 0 ? dims[0] : dims[i] / 2;  // the previous Resample halved the width
        const int64_t width = dims[i + 1];
        for (int64_t r = 0; r <= c.num_res_blocks; ++r) {
            out.push_back(std::make_shared<ResidualBlock>(in, width));
            if (has_scale(c.attn_scales, scale)) out.push_back(std::make_shared<AttentionBlock>(width));
            in = width;
        }
        if (i + 1 != stages) {
            const bool temporal = c.temperal_downsample[c.temperal_downsample.size() - 1 - i];  // reversed
            out.push_back(std::make_shared<Resample>(
                width, width / 2, temporal ? Resample::Mode::Upsample3d : Resample::Mode::Upsample2d));
            scale *= 2.0;
        }
    }
    return out;
}

}  // namespace

WanVAEImpl::WanVAEImpl(const WanVAEConfig& config) : config_(config) {
    const auto& c = config_;
    const bool v22 = c.layout == WanVAEConfig::Layout::Wan22;
    const int64_t pixels = 3 * c.patch * c.patch;  // channels after patchify
    encoder_ = register_module("encoder", Encoder3d(pixels, c.dim, c.dim * c.dim_mult.back(), 2 * c.z_dim,
                                                    v22 ? wan22_encoder_stages(c) : wan21_encoder_layers(c)));
    conv1_ = register_module("conv1", CausalConv3d(2 * c.z_dim, 2 * c.z_dim, K3{1, 1, 1}, K3{0, 0, 0}));
    conv2_ = register_module("conv2", CausalConv3d(c.z_dim, c.z_dim, K3{1, 1, 1}, K3{0, 0, 0}));
    const int64_t dec = v22 ? c.dec_dim : c.dim;
    decoder_ = register_module("decoder",
                               Decoder3d(c.z_dim, dec * c.dim_mult.back(), dec * c.dim_mult.front(), pixels,
                                         v22 ? wan22_decoder_stages(c) : wan21_decoder_layers(c)));
}

torch::Tensor WanVAEImpl::encode(const torch::Tensor& video) {
    torch::NoGradGuard no_grad;
    TORCH_CHECK(video.dim() == 5 && video.size(1) == 3, "Wan VAE: video must be [B, 3, F, H, W], got ",
                video.sizes());
    const auto fits = config_.check_video(video.size(2), video.size(3), video.size(4));
    TORCH_CHECK(fits.ok(), fits.message());
    const torch::Tensor x = patchify(video.to(conv1_->weight.scalar_type()), config_.patch);
    const torch::Tensor mu =
        encode_chunked(*encoder_, *conv1_, x).narrow(1, 0, config_.z_dim);  // log-var unused
    return normalise_latent(mu, config_);
}

void WanVAEImpl::decode_chunks(const torch::Tensor& latent, const FrameSink& sink, int64_t tile) {
    torch::NoGradGuard no_grad;
    TORCH_CHECK(latent.dim() == 5 && latent.size(1) == config_.z_dim, "Wan VAE: latent must be [B, ",
                config_.z_dim, ", T, h, w], got ", latent.sizes());
    const torch::Tensor z = denormalise_latent(latent.to(conv2_->weight.scalar_type()), config_);
    const int64_t p = config_.patch;
    decode_chunked_tiled(*decoder_, *conv2_, z, tile, tile / 4,
                         [&](const torch::Tensor& chunk) { sink(unpatchify(chunk, p)); });
}

torch::Tensor WanVAEImpl::decode(const torch::Tensor& latent) {
    std::vector<torch::Tensor> chunks;
    decode_chunks(latent, [&](const torch::Tensor& chunk) { chunks.push_back(chunk); });
    return chunks.size() == 1 ? chunks.front() : torch::cat(chunks, 2);
}

}  // namespace fl::inference::wan
