#include "inference/arch/wan/vae22.h"

namespace fl::inference::wan {

torch::Tensor patchify(const torch::Tensor& x, int64_t p) {
    if (p == 1) return x;
    // [B, C, F, h, q, w, r] → [B, C, r, q, F, h, w] → [B, C·r·q, F, h, w]
    const int64_t b = x.size(0), c = x.size(1), f = x.size(2), h = x.size(3) / p, w = x.size(4) / p;
    return x.reshape({b, c, f, h, p, w, p}).permute({0, 1, 6, 4, 2, 3, 5}).reshape({b, c * p * p, f, h, w});
}

torch::Tensor unpatchify(const torch::Tensor& x, int64_t p) {
    if (p == 1) return x;
    // [B, C, r, q, F, h, w] → [B, C, F, h, q, w, r] → [B, C, F, h·q, w·r]
    const int64_t b = x.size(0), c = x.size(1) / (p * p), f = x.size(2), h = x.size(3), w = x.size(4);
    return x.reshape({b, c, p, p, f, h, w}).permute({0, 1, 4, 5, 3, 6, 2}).reshape({b, c, f, h * p, w * p});
}

torch::Tensor avg_down_3d(const torch::Tensor& x, int64_t out, int64_t ft, int64_t fs) {
    const int64_t pad_t = (ft - x.size(2) % ft) % ft;
    const torch::Tensor y =
        pad_t > 0 ? torch::constant_pad_nd(x, {0, 0, 0, 0, pad_t, 0}, 0.0) : x.contiguous();
    const int64_t b = y.size(0), c = y.size(1), t = y.size(2) / ft, h = y.size(3) / fs, w = y.size(4) / fs;
    const int64_t factor = ft * fs * fs, group = c * factor / out;
    // [B, C, t, ft, h, fs, w, fs] → [B, C, ft, fs, fs, t, h, w] → [B, out, group, t, h, w] → mean over group
    return y.view({b, c, t, ft, h, fs, w, fs})
        .permute({0, 1, 3, 5, 7, 2, 4, 6})
        .contiguous()
        .view({b, out, group, t, h, w})
        .mean(2);
}

torch::Tensor dup_up_3d(const torch::Tensor& x, int64_t out, int64_t ft, int64_t fs, bool first_chunk) {
    const int64_t factor = ft * fs * fs, repeats = out * factor / x.size(1);
    const int64_t b = x.size(0), t = x.size(2), h = x.size(3), w = x.size(4);
    // [B, in·repeats, t, h, w] → [B, out, ft, fs, fs, t, h, w] → [B, out, t, ft, h, fs, w, fs]
    torch::Tensor y = x.repeat_interleave(repeats, 1)
                          .view({b, out, ft, fs, fs, t, h, w})
                          .permute({0, 1, 5, 2, 6, 3, 7, 4})
                          .contiguous()
                          .view({b, out, t * ft, h * fs, w * fs});
    if (first_chunk) y = y.narrow(2, ft - 1, t * ft - (ft - 1));
    return y;
}

DownResidualBlock::DownResidualBlock(int64_t in, int64_t out, int64_t mult, bool temporal, bool down)
    : out_(out), factor_t_(temporal ? 2 : 1), factor_s_(down ? 2 : 1) {
    TORCH_CHECK(in * factor_t_ * factor_s_ * factor_s_ % out == 0, "Wan2.2 VAE: AvgDown3D cannot map ", in,
                " channels to ", out);
    auto list = register_module("downsamples", torch::nn::ModuleList());
    for (int64_t i = 0; i < mult; ++i, in = out)
        layers_.push_back(*list, std::make_shared<ResidualBlock>(in, out));
    if (down)
        layers_.push_back(
            *list, std::make_shared<Resample>(
                       out, out, temporal ? Resample::Mode::Downsample3d : Resample::Mode::Downsample2d));
}

torch::Tensor DownResidualBlock::forward(const torch::Tensor& x, FeatureCache& cache) {
    const torch::Tensor y = layers_.forward(x, cache);
    return y + avg_down_3d(x, out_, factor_t_, factor_s_);
}

UpResidualBlock::UpResidualBlock(int64_t in, int64_t out, int64_t mult, bool temporal, bool up)
    : up_(up), out_(out), factor_t_(temporal ? 2 : 1) {
    TORCH_CHECK(!up || out * factor_t_ * 4 % in == 0, "Wan2.2 VAE: DupUp3D cannot map ", in, " channels to ",
                out);
    auto list = register_module("upsamples", torch::nn::ModuleList());
    for (int64_t i = 0; i < mult; ++i, in = out)
        layers_.push_back(*list, std::make_shared<ResidualBlock>(in, out));
    if (up)
        layers_.push_back(*list,
                          std::make_shared<Resample>(
                              out, out, temporal ? Resample::Mode::Upsample3d : Resample::Mode::Upsample2d));
}

torch::Tensor UpResidualBlock::forward(const torch::Tensor& x, FeatureCache& cache) {
    const torch::Tensor y = layers_.forward(x, cache);
    if (!up_) return y;
    return y + dup_up_3d(x, out_, factor_t_, 2, cache.first_chunk);
}

std::vector<std::shared_ptr<VAELayer>> wan22_encoder_stages(const WanVAEConfig& c) {
    std::vector<std::shared_ptr<VAELayer>> out;
    const size_t stages = c.dim_mult.size();
    int64_t in = c.dim;
    for (size_t i = 0; i < stages; ++i) {
        const int64_t width = c.dim * c.dim_mult[i];
        const bool temporal = i < c.temperal_downsample.size() && c.temperal_downsample[i];
        out.push_back(
            std::make_shared<DownResidualBlock>(in, width, c.num_res_blocks, temporal, i + 1 != stages));
        in = width;
    }
    return out;
}

std::vector<std::shared_ptr<VAELayer>> wan22_decoder_stages(const WanVAEConfig& c) {
    std::vector<std::shared_ptr<VAELayer>> out;
    const size_t stages = c.dim_mult.size();
    std::vector<bool> up(c.temperal_downsample.rbegin(), c.temperal_downsample.rend());  // temperal_upsample
    int64_t in = c.dec_dim * c.dim_mult.back();
    for (size_t i = 0; i < stages; ++i) {
        const int64_t width = c.dec_dim * c.dim_mult[stages - 1 - i];
        const bool temporal = i < up.size() && up[i];
        out.push_back(
            std::make_shared<UpResidualBlock>(in, width, c.num_res_blocks + 1, temporal, i + 1 != stages));
        in = width;
    }
    return out;
}

core::Result<WanVAEConfig> wan22_vae_config(const std::map<std::string, std::vector<int64_t>>& shapes,
                                            const std::map<std::string, std::string>& metadata,
                                            const std::string& prefix_in) {
    const std::string prefix = vae_detail::find_prefix(shapes, "encoder.conv1.weight", prefix_in);
    auto shape = [&](const std::string& key) -> const std::vector<int64_t>* {
        auto it = shapes.find(prefix + key);
        return it == shapes.end() ? nullptr : &it->second;
    };
    auto missing = [&](const std::string& key) {
        return core::fail("not a Wan2.2 VAE checkpoint: tensor '" + prefix + key + "' is missing");
    };
    WanVAEConfig c;
    c.layout = WanVAEConfig::Layout::Wan22;
    c.patch = 2;
    c.prefix = prefix;
    const auto* conv1 = shape("encoder.conv1.weight");
    if (!conv1 || conv1->size() != 5) return missing("encoder.conv1.weight");
    if ((*conv1)[1] != 12)
        return core::fail("not a Wan2.2 VAE checkpoint: encoder.conv1 takes " + std::to_string((*conv1)[1]) +
                          " channels, expected 12 (a Wan2.1 VAE takes 3: use codec \"wan-vae\")");
    c.dim = (*conv1)[0];
    const auto* conv2 = shape("conv2.weight");
    if (!conv2 || conv2->empty()) return missing("conv2.weight");
    c.z_dim = (*conv2)[0];

    // Stages encoder.downsamples.{s}.downsamples.{j}: ResidualBlocks, then an optional Resample.
    c.dim_mult.clear();
    c.temperal_downsample.clear();
    for (int64_t s = 0;; ++s) {
        const std::string k = "encoder.downsamples." + std::to_string(s) + ".downsamples.";
        int64_t res = 0, width = 0;
        while (const auto* r = shape(k + std::to_string(res) + ".residual.2.weight")) {
            width = (*r)[0];
            ++res;
        }
        if (res == 0) break;
        if (s == 0) c.num_res_blocks = res;
        c.dim_mult.push_back(width / c.dim);
        if (shape(k + std::to_string(res) + ".resample.1.weight"))
            c.temperal_downsample.push_back(shape(k + std::to_string(res) + ".time_conv.weight") != nullptr);
    }
    if (c.dim_mult.empty()) return missing("encoder.downsamples.0.downsamples.0.residual.2.weight");
    const auto* head = shape("decoder.head.0.gamma");
    if (!head || head->empty()) return missing("decoder.head.0.gamma");
    c.dec_dim = (*head)[0] / c.dim_mult.front();
    FL_TRY(vae_detail::apply_metadata(c, metadata));
    FL_TRY(c.resolve_latent_stats(metadata));
    return c;
}

core::Result<WanVAEConfig> wan22_vae_config(const SafeTensorsFile& file, const std::string& prefix) {
    std::map<std::string, std::vector<int64_t>> shapes;
    for (const auto& info : file.tensors()) shapes[info.name] = info.shape;
    auto c = wan22_vae_config(shapes, file.metadata(), prefix);
    if (!c) return core::fail(c.message() + " (in " + file.path().string() + ")");
    return c;
}

}  // namespace fl::inference::wan
