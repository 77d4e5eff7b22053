#include "inference/wan_image_conditioning.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace fl::inference {
namespace F = torch::nn::functional;

torch::Tensor wan_image_mask(int64_t frames, int64_t lat_h, int64_t lat_w, bool last) {
    torch::Tensor m = torch::zeros({frames + 3, lat_h, lat_w});
    m.narrow(0, 0, 4).fill_(1.0);                     // pixel frame 0, repeated four times
    if (last) m.narrow(0, frames + 2, 1).fill_(1.0);  // pixel frame frames−1
    return m.view({(frames + 3) / 4, 4, lat_h, lat_w}).transpose(0, 1).contiguous();
}

namespace {

/// `image` [3, h, w] resized bicubically (align_corners false, no antialias) to height × width, as the
/// reference's F.interpolate; unchanged when it already has that size.
torch::Tensor bicubic(const torch::Tensor& image, int64_t height, int64_t width) {
    if (image.size(1) == height && image.size(2) == width) return image;
    return F::interpolate(image.unsqueeze(0), F::InterpolateFuncOptions()
                                                  .size(std::vector<int64_t>{height, width})
                                                  .mode(torch::kBicubic)
                                                  .align_corners(false))[0]
        .contiguous();
}

}  // namespace

torch::Tensor wan_image_tensor(const core::Frame& frame, int64_t height, int64_t width) {
    torch::Tensor u8 = torch::empty({frame.height, frame.width, 3}, torch::kUInt8);
    std::memcpy(u8.data_ptr<uint8_t>(), frame.rgb.data(), frame.rgb.size());
    // to_tensor · 2 − 1, as the reference: x/255·2 − 1.
    const torch::Tensor t =
        u8.permute({2, 0, 1}).to(torch::kFloat32).div(255.0).sub(0.5).div(0.5).contiguous();
    return height > 0 && width > 0 ? bicubic(t, height, width) : t;
}

torch::Tensor wan_cover_crop(const torch::Tensor& image, int64_t height, int64_t width) {
    const int64_t h = image.size(1), w = image.size(2);
    if (h == height && w == width) return image;
    const double scale = std::max(static_cast<double>(height) / h, static_cast<double>(width) / w);
    const int64_t sh = std::max<int64_t>(height, std::llround(h * scale)),
                  sw = std::max<int64_t>(width, std::llround(w * scale));
    const torch::Tensor scaled = bicubic(image, sh, sw);
    return scaled.narrow(1, (sh - height) / 2, height).narrow(2, (sw - width) / 2, width).contiguous();
}

torch::Tensor wan22_first_frame_latent(const core::Frame& frame, const VideoCodec& codec, int64_t height,
                                       int64_t width) {
    torch::NoGradGuard no_grad;
    const torch::Tensor image = wan_cover_crop(wan_image_tensor(frame), height, width).clamp(-1.0, 1.0);
    return codec.encode(image.view({1, 3, 1, height, width})).to(torch::kCPU, torch::kFloat32);
}

core::Result<WanImageCondition> make_wan_image_condition(const core::ConditioningMedia& media,
                                                         const VideoCodec& codec, wan::CLIPVisionImpl* clip,
                                                         int64_t frames, int64_t height, int64_t width) {
    if (!media.first_frame) return core::fail("this model makes video from an image: give --first-frame IMG");
    if (!media.extend_source.frames.empty() || !media.references.empty())
        return core::fail("this model takes a first frame (and a last frame), not --extend or --reference");
    const bool last = media.last_frame.has_value();
    const auto stride = codec.stride();
    if (frames < 2 || (frames - 1) % stride[0] != 0)
        return core::fail("image conditioning needs 4n+1 frames (got " + std::to_string(frames) + ")");
    torch::NoGradGuard no_grad;
    const torch::Tensor first = wan_image_tensor(*media.first_frame);
    torch::Tensor last_image;
    if (last) last_image = wan_cover_crop(wan_image_tensor(*media.last_frame), first.size(1), first.size(2));

    // The VAE sees [first, zeros…, last?] at the output size.
    torch::Tensor video = torch::zeros({1, 3, frames, height, width});
    video[0].select(1, 0).copy_(bicubic(first, height, width));
    if (last) video[0].select(1, frames - 1).copy_(bicubic(last_image, height, width));
    const torch::Tensor latent = codec.encode(video).to(torch::kCPU, torch::kFloat32);  // [1, z, T, h, w]
    const torch::Tensor mask = wan_image_mask(frames, latent.size(3), latent.size(4), last).unsqueeze(0);
    WanImageCondition out;
    out.y = torch::cat({mask, latent}, 1);
    if (clip) {
        const auto device = clip->parameters().front().device();
        torch::Tensor tokens = clip->encode(first.to(device));  // [1, tokens, clip_dim]
        if (last) tokens = torch::cat({tokens, clip->encode(last_image.to(device))}, 1);  // [1, 2·tokens, ·]
        out.clip_fea = tokens.to(torch::kFloat32);
    }
    return out;
}

}  // namespace fl::inference
