/// write_png: one RGB frame to a PNG through libavcodec's encoder, written atomically.
#include <cstring>
#include <string>
#include <string_view>

#include "frameloom/core/atomic_file.h"
#include "frameloom/media/encode.h"
#include "media/libav.h"

namespace fl::media {
namespace fs = std::filesystem;

core::Result<void> write_png(const core::Frame& frame, const fs::path& target) {
    const auto fail = [&](const std::string& why) { return core::fail("cannot write " + target.string() + ": " + why); };
    if (frame.width <= 0 || frame.height <= 0) return fail("the frame is empty");
    const size_t row = static_cast<size_t>(frame.width) * 3;
    if (frame.rgb.size() != row * frame.height) return fail("the frame's buffer does not match its size");

    const AVCodec* png = avcodec_find_encoder(AV_CODEC_ID_PNG);
    if (!png) return fail("this FFmpeg has no PNG encoder");
    detail::CodecContextPtr codec(avcodec_alloc_context3(png));
    if (!codec) return fail("out of memory");
    codec->width = frame.width;
    codec->height = frame.height;
    codec->pix_fmt = AV_PIX_FMT_RGB24;
    codec->time_base = AVRational{1, 1};
    detail::Options options;
    options.set("pred", "paeth");  // noticeably smaller files than no prediction, still fast
    int err = avcodec_open2(codec.get(), png, options.get());
    if (err < 0) return fail("cannot open the PNG encoder (" + detail::av_error_text(err) + ")");

    detail::FramePtr picture = detail::alloc_frame(AV_PIX_FMT_RGB24, frame.width, frame.height);
    detail::PacketPtr packet(av_packet_alloc());
    if (!picture || !packet) return fail("out of memory");
    for (int y = 0; y < frame.height; ++y)
        std::memcpy(picture->data[0] + static_cast<ptrdiff_t>(picture->linesize[0]) * y, frame.rgb.data() + row * y, row);
    picture->pts = 0;

    err = avcodec_send_frame(codec.get(), picture.get());
    if (err >= 0) err = avcodec_send_frame(codec.get(), nullptr);
    if (err >= 0) err = avcodec_receive_packet(codec.get(), packet.get());
    if (err < 0) return fail("PNG encoding failed (" + detail::av_error_text(err) + ")");
    const std::string_view bytes(reinterpret_cast<const char*>(packet->data), static_cast<size_t>(packet->size));
    return core::write_file_atomically(target, bytes);
}

}  // namespace fl::media
