#include "media/input.h"

#include <string_view>

namespace fl::media::detail {
namespace fs = std::filesystem;

namespace {

core::Error not_media(const fs::path& path, const std::string& reason) {
    return core::fail("not a video or image: " + path.string() + " (" + reason + ")");
}

}  // namespace

core::Result<OpenedInput> open_input(const fs::path& path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return core::fail("file not found: " + path.string());
    if (fs::is_directory(path, ec)) return not_media(path, "it is a folder");

    // image2 would read '%d' in a file name as a sequence pattern; we always open exactly one file.
    Options options;
    options.set("pattern_type", "none");

    AVFormatContext* raw = nullptr;
    int err = avformat_open_input(&raw, path.c_str(), nullptr, options.get());
    if (err < 0) return not_media(path, av_error_text(err));
    OpenedInput input;
    input.format.reset(raw);

    err = avformat_find_stream_info(raw, nullptr);
    if (err < 0) return not_media(path, av_error_text(err));

    // The tty demuxer turns any text file into an "ansi" video; that is never what a user means.
    if (std::string_view(raw->iformat->name) == "tty") return not_media(path, "text file");

    for (unsigned i = 0; i < raw->nb_streams; ++i) {
        const AVStream* stream = raw->streams[i];
        if (stream->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
            !(stream->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
            input.video_stream = static_cast<int>(i);
            break;
        }
    }
    if (input.video_stream < 0) return not_media(path, "no video stream");
    const AVCodecParameters* par = raw->streams[input.video_stream]->codecpar;
    if (par->width <= 0 || par->height <= 0) return not_media(path, "video stream has no picture size");
    return input;
}

bool is_image_demuxer(const char* name) {
    const std::string_view n(name ? name : "");
    return n == "image2" || n == "image2pipe" || (n.size() > 5 && n.substr(n.size() - 5) == "_pipe");
}

bool is_still_codec(AVCodecID id) {
    switch (id) {
        case AV_CODEC_ID_PNG:
        case AV_CODEC_ID_MJPEG:
        case AV_CODEC_ID_BMP:
        case AV_CODEC_ID_WEBP:
        case AV_CODEC_ID_TIFF:
        case AV_CODEC_ID_GIF:
        case AV_CODEC_ID_JPEG2000:
        case AV_CODEC_ID_JPEGLS:
        case AV_CODEC_ID_PPM:
        case AV_CODEC_ID_PGM:
        case AV_CODEC_ID_PBM:
        case AV_CODEC_ID_PAM:
        case AV_CODEC_ID_TARGA:
        case AV_CODEC_ID_DPX:
        case AV_CODEC_ID_SGI:
        case AV_CODEC_ID_EXR:
            return true;
        default:
            return false;
    }
}

}  // namespace fl::media::detail
