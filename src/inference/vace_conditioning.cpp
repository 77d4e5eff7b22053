#include "inference/vace_conditioning.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "inference/frame_conditioning.h"

namespace fl::inference {
namespace F = torch::nn::functional;

torch::Tensor vace_mask_latent(const torch::Tensor& mask, int64_t latent_frames) {
    const int64_t frames = mask.size(0), h = mask.size(1) / 8, w = mask.size(2) / 8;
    // [F, h·8, w·8] → [F, h, 8, w, 8] → [8, 8, F, h, w] → [64, F, h, w]
    const torch::Tensor cells =
        mask.reshape({frames, h, 8, w, 8}).permute({2, 4, 0, 1, 3}).reshape({64, frames, h, w});
    // nearest-exact over time: source index floor((i + 0.5) · F / T)
    std::vector<int64_t> index;
    for (int64_t i = 0; i < latent_frames; ++i)
        index.push_back(std::min<int64_t>(
            frames - 1,
            static_cast<int64_t>(std::floor((i + 0.5) * static_cast<double>(frames) / latent_frames))));
    return cells.index_select(1, torch::tensor(index, torch::kInt64)).contiguous();
}

namespace {

/// A reference image fitted inside height × width (aspect kept, bilinear) and centred on a white canvas.
torch::Tensor fit_on_white(const core::Frame& image, int64_t height, int64_t width) {
    const double scale =
        std::min(static_cast<double>(height) / image.height, static_cast<double>(width) / image.width);
    const int64_t h = std::clamp<int64_t>(std::llround(image.height * scale), 1, height),
                  w = std::clamp<int64_t>(std::llround(image.width * scale), 1, width);
    torch::Tensor canvas = torch::ones({3, height, width});
    canvas.narrow(1, (height - h) / 2, h).narrow(2, (width - w) / 2, w).copy_(frame_to_tensor(image, h, w));
    return canvas;
}

/// `--video` and `--mask` as the source [3, F, H, W] in [−1, 1] and the mask [F, H, W]: the clip's first
/// `frames` frames; without a mask every pixel is reactive (the clip is a control signal).
core::Result<std::pair<torch::Tensor, torch::Tensor>> video_and_mask(const core::ConditioningMedia& media,
                                                                     int64_t frames, int64_t height,
                                                                     int64_t width) {
    const auto count = [](size_t n) { return std::to_string(n) + (n == 1 ? " frame" : " frames"); };
    if (static_cast<int64_t>(media.video.frames.size()) < frames)
        return core::fail("--video has " + count(media.video.frames.size()) + ", the shot needs " +
                          std::to_string(frames) + ": give a longer clip or fewer --frames");
    if (media.mask.size() > 1 && static_cast<int64_t>(media.mask.size()) < frames)
        return core::fail("--mask has " + count(media.mask.size()) + ", the shot needs " +
                          std::to_string(frames) +
                          ": give a mask clip as long as the shot, or one image for every frame");
    torch::Tensor source = torch::empty({3, frames, height, width});
    torch::Tensor mask = torch::ones({frames, height, width});
    for (int64_t i = 0; i < frames; ++i) {
        source.select(1, i).copy_(frame_to_tensor(media.video.frames[static_cast<size_t>(i)], height, width));
        if (!media.mask.empty())
            // [−1, 1] back to [0, 1], as the reference's (m + 1) / 2; grey over the three channels.
            mask[i].copy_(frame_to_tensor(media.mask[media.mask.size() == 1 ? 0 : static_cast<size_t>(i)],
                                          height, width)
                              .add(1.0)
                              .div(2.0)
                              .mean(0));
    }
    return std::make_pair(source, mask);
}

}  // namespace

core::Result<VaceCondition> make_vace_condition(const core::ConditioningMedia& media, const VideoCodec& codec,
                                                int64_t frames, int64_t height, int64_t width,
                                                int64_t extend_frames) {
    if (codec.stride()[1] != 8 || codec.stride()[2] != 8)
        return core::fail("VACE needs a VAE with 8×8-pixel latent cells (the Wan2.1 VAE)");
    torch::NoGradGuard no_grad;
    torch::Tensor source = torch::zeros({3, frames, height, width});
    torch::Tensor mask = torch::ones({frames, height, width});
    const auto give = [&](int64_t index, const core::Frame& frame) {
        source.select(1, index).copy_(frame_to_tensor(frame, height, width));
        mask[index].zero_();
    };
    VaceCondition out;
    if (!media.video.frames.empty()) {
        auto given = video_and_mask(media, frames, height, width);
        if (!given) return given.error();
        std::tie(source, mask) = *given;
    } else {
        out.source_frames = place_given_frames(media, frames, extend_frames, give);
    }

    // The source splits at the binarised mask, as the reference's vace_encode_frames; the mask channels
    // keep its values (vace_encode_masks).
    const torch::Tensor m = (mask > 0.5).to(torch::kFloat32).unsqueeze(0);  // broadcast over RGB
    const torch::Tensor inactive =
        codec.encode((source * (1.0 - m)).unsqueeze(0)).to(torch::kCPU, torch::kFloat32);
    const torch::Tensor reactive = codec.encode((source * m).unsqueeze(0)).to(torch::kCPU, torch::kFloat32);
    torch::Tensor latent = torch::cat({inactive, reactive}, 1);                       // [1, 2z, T, h, w]
    torch::Tensor mask_latent = vace_mask_latent(mask, latent.size(2)).unsqueeze(0);  // [1, 64, T, h, w]
    if (!media.references.empty()) {
        std::vector<torch::Tensor> refs, ref_masks;
        for (const auto& image : media.references) {
            const torch::Tensor z =
                codec.encode(fit_on_white(image, height, width).view({1, 3, 1, height, width}))
                    .to(torch::kCPU, torch::kFloat32);  // [1, z, 1, h, w]
            refs.push_back(torch::cat({z, torch::zeros_like(z)}, 1));
            ref_masks.push_back(torch::zeros({1, 64, 1, latent.size(3), latent.size(4)}));
        }
        refs.push_back(latent);
        ref_masks.push_back(mask_latent);
        latent = torch::cat(refs, 2);
        mask_latent = torch::cat(ref_masks, 2);
        out.ref_frames = static_cast<int64_t>(media.references.size());
    }
    out.context = torch::cat({latent, mask_latent}, 1);
    return out;
}

}  // namespace fl::inference
