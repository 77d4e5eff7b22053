#include "inference/codec.h"

#include <algorithm>

#include "frameloom/inference/model_store.h"
#include "inference/arch/wan/component_keys.h"
#include "inference/arch/wan/vae.h"
#include "inference/arch/wan/vae22.h"
#include "inference/patch_codec.h"
#include "inference/tensor_io.h"

namespace fl::inference {

void VideoCodec::decode_chunks(const torch::Tensor& latent, const ChunkSink& sink) const {
    // Frame-local codecs: one latent frame at a time is exact.
    for (int64_t i = 0; i < latent.size(2); ++i) sink(decode(latent.narrow(2, i, 1)));
}

namespace {

/// A Wan2.1 or Wan2.2 VAE behind the codec seam.
class WanVAECodec final : public VideoCodec {
public:
    explicit WanVAECodec(wan::WanVAE vae) : vae_(std::move(vae)) {}

    std::string name() const override {
        return vae_->config().layout == wan::WanVAEConfig::Layout::Wan22 ? "wan22-vae" : "wan-vae";
    }
    int64_t latent_channels() const override { return vae_->config().z_dim; }
    std::array<int64_t, 3> stride() const override {
        const auto& c = vae_->config();
        return {c.stride_t(), c.stride_s(), c.stride_s()};
    }
    int64_t latent_frames(int64_t frames) const override { return vae_->config().latent_frames(frames); }
    int64_t video_frames(int64_t latent_frames) const override {
        return vae_->config().video_frames(latent_frames);
    }
    core::Result<void> check_video(int64_t frames, int64_t height, int64_t width) const override {
        return vae_->config().check_video(frames, height, width);
    }
    torch::Tensor encode(const torch::Tensor& video) const override {
        const auto device = vae_->parameters().front().device();
        return vae_->encode(video.to(device));
    }
    torch::Tensor decode(const torch::Tensor& latent) const override {
        const auto device = vae_->parameters().front().device();
        return vae_->decode(latent.to(device));
    }
    void decode_chunks(const torch::Tensor& latent, const ChunkSink& sink) const override {
        const auto device = vae_->parameters().front().device();
        vae_->decode_chunks(latent.to(device), sink, tile_pixels_ / vae_->config().stride_s());
    }
    void to(torch::Device device) override { vae_->to(device); }
    void set_decode_tile(int64_t pixels) override { tile_pixels_ = std::max<int64_t>(0, pixels); }

private:
    mutable wan::WanVAE vae_;  // encode/decode run the module; the codec's state does not change
    int64_t tile_pixels_ = 0;
};

}  // namespace

core::Result<std::unique_ptr<VideoCodec>> load_codec(const ModelCard& card, torch::Device device) {
    if (card.codec == "patch") {
        auto codec = PatchCodec::from_card(card.codec_patch);
        if (!codec) return codec.error();
        return std::unique_ptr<VideoCodec>(std::make_unique<PatchCodec>(*codec));
    }
    if (card.codec != "wan-vae" && card.codec != "wan22-vae")
        return core::fail("model '" + card.id + "' names codec '" + card.codec +
                          "', which is unknown: use \"patch\", \"wan-vae\" or \"wan22-vae\"");
    const auto path = card.file("vae");
    if (path.empty())
        return core::fail("model '" + card.id + "' uses the " + card.codec +
                          " codec but its card has no files.vae (add the VAE checkpoint's path)");
    auto weights = wan::open_vae_weights(path);  // .pth or safetensors
    if (!weights) return weights.error();
    auto config = card.codec == "wan-vae"
                      ? wan::WanVAEConfig::from_shapes(weights->shapes(), weights->metadata())
                      : wan::wan22_vae_config(weights->shapes(), weights->metadata());
    if (!config) return core::fail(config.message() + " (in " + path.string() + ")");
    weights->strip_prefix(config->prefix);
    wan::WanVAE vae(*config);
    FL_TRY(load_module(*vae, *weights));
    vae->eval();
    vae->to(device);
    return std::unique_ptr<VideoCodec>(std::make_unique<WanVAECodec>(vae));
}

}  // namespace fl::inference
