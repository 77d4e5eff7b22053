#include "inference/frame_conditioning.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace fl::inference {
namespace F = torch::nn::functional;

torch::Tensor frame_to_tensor(const core::Frame& frame, int64_t height, int64_t width) {
    torch::Tensor u8 = torch::empty({frame.height, frame.width, 3}, torch::kUInt8);
    std::memcpy(u8.data_ptr<uint8_t>(), frame.rgb.data(), frame.rgb.size());
    torch::Tensor t = u8.permute({2, 0, 1}).to(torch::kFloat32).div(127.5).sub(1.0).unsqueeze(0);  // [1, 3, h, w]
    if (frame.height != height || frame.width != width) {
        const bool shrink = frame.height >= height && frame.width >= width;
        auto options = F::InterpolateFuncOptions().size(std::vector<int64_t>{height, width});
        options = shrink ? options.mode(torch::kArea) : options.mode(torch::kBilinear).align_corners(false);
        t = F::interpolate(t, options).clamp(-1.0, 1.0);
    }
    return t[0].contiguous();
}

int64_t place_given_frames(const core::ConditioningMedia& media, int64_t frames, int64_t extend_frames,
                           const std::function<void(int64_t, const core::Frame&)>& give) {
    int64_t k = 0;
    if (!media.extend_source.frames.empty()) {
        const int64_t have = media.extend_source.frame_count();
        k = std::min({extend_frames, have, frames - 1});
        for (int64_t i = 0; i < k; ++i)
            give(i, media.extend_source.frames[static_cast<size_t>(have - k + i)]);
    }
    if (media.first_frame) give(0, *media.first_frame);
    if (media.last_frame) give(frames - 1, *media.last_frame);
    return k;
}

core::Result<FrameCondition> make_frame_condition(const core::ConditioningMedia& media, const VideoCodec& codec,
                                                  int64_t frames, int64_t padded_frames, int64_t height, int64_t width,
                                                  int64_t ref_group, int64_t extend_frames) {
    if (codec.stride()[0] != 1)
        return core::fail("frame-mask conditioning needs a codec with one latent frame per video frame");
    if (static_cast<int64_t>(media.references.size()) > ref_group)
        return core::fail("at most " + std::to_string(ref_group) + " --reference images fit this model (got " +
                          std::to_string(media.references.size()) + ")");
    const int64_t refs = media.references.empty() ? 0 : ref_group;
    const int64_t total = refs + std::max(frames, padded_frames);
    torch::Tensor pixels = torch::zeros({1, 3, total, height, width});
    torch::Tensor known = torch::zeros({1, 1, total, 1, 1});
    torch::Tensor ref = torch::zeros({1, 1, total, 1, 1});
    for (int64_t i = 0; i < refs; ++i) {  // the images repeated to fill the group
        const auto& image = media.references[static_cast<size_t>(i) % media.references.size()];
        pixels[0].select(1, i).copy_(frame_to_tensor(image, height, width));
        known[0][0][i].fill_(1.0);
        ref[0][0][i].fill_(1.0);
    }
    const auto give = [&](int64_t index, const core::Frame& frame) {
        pixels[0].select(1, refs + index).copy_(frame_to_tensor(frame, height, width));
        known[0][0][refs + index].fill_(1.0);
    };
    FrameCondition c;
    c.ref_frames = refs;
    c.source_frames = place_given_frames(media, frames, extend_frames, give);
    c.clean = codec.encode(pixels) * known;
    c.known = known;
    c.ref = ref;
    return c;
}

torch::Tensor frame_mask_input(const torch::Tensor& xt, const FrameCondition& c) {
    const auto b = xt.size(0), f = xt.size(2), h = xt.size(3), w = xt.size(4);
    const torch::Tensor known = c.known.to(xt.device()).expand({b, 1, f, 1, 1});
    const torch::Tensor ref = c.ref.to(xt.device()).expand({b, 1, f, 1, 1});
    const torch::Tensor clean = c.clean.to(xt.device()).expand_as(xt);
    const torch::Tensor x = xt * (1.0 - known) + clean * known;
    std::vector<torch::Tensor> parts{x, known.expand({b, 1, f, h, w}), ref.expand({b, 1, f, h, w})};
    if (c.positions)
        parts.push_back(position_channels(c.ref_frames, f - c.ref_frames, h, w)
                            .to(xt.device(), xt.scalar_type())
                            .unsqueeze(0)
                            .expand({b, kFrameMaskPositions, f, h, w}));
    return torch::cat(parts, 1);
}

torch::Tensor position_channels(int64_t ref_frames, int64_t frames, int64_t height, int64_t width) {
    const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
    const int64_t total = ref_frames + frames;
    torch::Tensor time = torch::zeros({total}, f32);
    time.narrow(0, ref_frames, frames)
        .copy_(torch::arange(frames, f32).mul(2.0 / kPositionTimeSpan).sub(1.0));
    // Pixel centres of an n-pixel axis at −1 + (2k + 1)/n.
    const auto axis = [&](int64_t n) { return torch::arange(n, f32).mul(2.0).add(1.0).div(n).sub(1.0); };
    return torch::stack({time.view({total, 1, 1}).expand({total, height, width}),
                         axis(height).view({1, height, 1}).expand({total, height, width}),
                         axis(width).view({1, 1, width}).expand({total, height, width})})
        .mul(kPositionScale);
}

torch::Tensor keep_known(const torch::Tensor& predicted, const torch::Tensor& exact, const FrameCondition& c) {
    const torch::Tensor known = c.known.to(predicted.device());
    return predicted * (1.0 - known) + exact * known;
}

}  // namespace fl::inference
