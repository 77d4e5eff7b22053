#include "inference/patch_codec.h"

#include <cstring>
#include <string>

namespace fl::inference {

PatchCodec::PatchCodec(int64_t pt, int64_t ph, int64_t pw) : ph_(ph), pw_(pw) { (void)pt; }

core::Result<PatchCodec> PatchCodec::from_card(const std::vector<int>& patch) {
    if (patch.size() != 3 || patch[0] != 1 || patch[1] < 1 || patch[2] < 1 || patch[1] > 16 || patch[2] > 16)
        return core::fail("model card: codec_patch must be [1, ph, pw] with 1 ≤ ph, pw ≤ 16");
    return PatchCodec(patch[0], patch[1], patch[2]);
}

core::Result<void> PatchCodec::check_video(int64_t frames, int64_t height, int64_t width) const {
    if (frames < 1) return core::fail("patch codec: a video needs at least one frame");
    if (height < ph_ || width < pw_ || height % ph_ != 0 || width % pw_ != 0)
        return core::fail("patch codec: size " + std::to_string(width) + "x" + std::to_string(height) +
                          " does not fit: width must be a multiple of " + std::to_string(pw_) +
                          " and height of " + std::to_string(ph_));
    return core::ok();
}

torch::Tensor PatchCodec::encode(const torch::Tensor& video) const {
    // video: [B, 3, F, H, W] → [B, 3, F, h, ph, w, pw] → [B, 3, ph, pw, F, h, w] → [B, 3·ph·pw, F, h, w]
    const auto b = video.size(0), f = video.size(2), h = video.size(3) / ph_, w = video.size(4) / pw_;
    return video.reshape({b, 3, f, h, ph_, w, pw_})
        .permute({0, 1, 4, 6, 2, 3, 5})
        .reshape({b, 3 * ph_ * pw_, f, h, w})
        .contiguous();
}

torch::Tensor PatchCodec::decode(const torch::Tensor& latent) const {
    // latent: [B, 3·ph·pw, F, h, w] → [B, 3, ph, pw, F, h, w] → [B, 3, F, h, ph, w, pw] → [B, 3, F, H, W]
    const auto b = latent.size(0), f = latent.size(2), h = latent.size(3), w = latent.size(4);
    return latent.reshape({b, 3, ph_, pw_, f, h, w})
        .permute({0, 1, 4, 5, 2, 6, 3})
        .reshape({b, 3, f, h * ph_, w * pw_})
        .contiguous();
}

core::Video tensor_to_video(const torch::Tensor& video, core::FrameRate fps) {
    // video: [3, F, H, W] in [−1, 1] → [F, H, W, 3] uint8
    const torch::Tensor u8 = ((video.detach().to(torch::kCPU, torch::kFloat32).clamp(-1.0, 1.0) + 1.0) * 127.5)
                                 .round()
                                 .to(torch::kUInt8)
                                 .permute({1, 2, 3, 0})
                                 .contiguous();
    core::Video out;
    out.fps = fps;
    const int64_t frames = u8.size(0), height = u8.size(1), width = u8.size(2);
    const size_t frame_bytes = static_cast<size_t>(height * width * 3);
    out.frames.reserve(static_cast<size_t>(frames));
    for (int64_t i = 0; i < frames; ++i) {
        core::Frame frame(static_cast<int>(width), static_cast<int>(height));
        std::memcpy(frame.rgb.data(), u8.data_ptr<uint8_t>() + i * static_cast<int64_t>(frame_bytes), frame_bytes);
        out.frames.push_back(std::move(frame));
    }
    return out;
}

torch::Tensor video_to_tensor(const core::Video& video) {
    const int64_t f = video.frame_count(), h = video.height(), w = video.width();
    torch::Tensor u8 = torch::empty({f, h, w, 3}, torch::kUInt8);
    for (int64_t i = 0; i < f; ++i)
        std::memcpy(u8.data_ptr<uint8_t>() + i * h * w * 3, video.frames[static_cast<size_t>(i)].rgb.data(),
                    static_cast<size_t>(h * w * 3));
    // [F, H, W, 3] → [3, F, H, W] in [−1, 1]
    return u8.permute({3, 0, 1, 2}).to(torch::kFloat32).div(127.5).sub(1.0).contiguous();
}

}  // namespace fl::inference
