#include "frameloom/media/probe.h"

#include <cstdio>

#include "media/input.h"
#include "media/libav.h"

namespace fl::media {
namespace fs = std::filesystem;

namespace {

/// The stream's average rate, else its base rate, else 0/1 (unknown).
core::FrameRate stream_rate(const AVStream* stream) {
    for (const AVRational r : {stream->avg_frame_rate, stream->r_frame_rate})
        if (r.num > 0 && r.den > 0) return core::Rational::make(r.num, r.den);
    return core::Rational{0, 1};
}

/// Reads every packet of `stream_index` to count frames when the container does not say.
int64_t count_packets(AVFormatContext* format, int stream_index) {
    detail::PacketPtr packet(av_packet_alloc());
    if (!packet) return 0;
    int64_t count = 0;
    while (av_read_frame(format, packet.get()) >= 0) {
        if (packet->stream_index == stream_index) ++count;
        av_packet_unref(packet.get());
    }
    return count;
}

}  // namespace

core::Result<MediaInfo> probe(const fs::path& path) {
    auto opened = detail::open_input(path);
    if (!opened) return opened.error();
    AVFormatContext* format = opened->format.get();
    const AVStream* stream = format->streams[opened->video_stream];
    const AVCodecParameters* par = stream->codecpar;

    MediaInfo info;
    info.path = path.string();
    info.container = format->iformat->name;
    info.video_codec = avcodec_get_name(par->codec_id);
    const char* pix = av_get_pix_fmt_name(static_cast<AVPixelFormat>(par->format));
    info.pixel_format = pix ? pix : "unknown";
    info.width = par->width;
    info.height = par->height;
    for (unsigned i = 0; i < format->nb_streams; ++i)
        if (format->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO) info.has_audio = true;

    info.frame_count = stream->nb_frames > 0 ? stream->nb_frames : count_packets(format, opened->video_stream);
    info.is_image = info.frame_count <= 1 &&
                    (detail::is_image_demuxer(format->iformat->name) || detail::is_still_codec(par->codec_id));
    if (info.is_image) {
        info.frame_count = 1;
        info.fps = core::Rational{0, 1};
        info.duration_seconds = 0.0;
        return info;
    }

    info.fps = stream_rate(stream);
    if (stream->duration != AV_NOPTS_VALUE && stream->duration > 0)
        info.duration_seconds = static_cast<double>(stream->duration) * av_q2d(stream->time_base);
    else if (format->duration != AV_NOPTS_VALUE && format->duration > 0)
        info.duration_seconds = static_cast<double>(format->duration) / AV_TIME_BASE;
    else if (info.fps.num > 0)
        info.duration_seconds = static_cast<double>(info.frame_count) / info.fps.to_double();
    return info;
}

std::string describe(const MediaInfo& info) {
    char line[256];
    std::string out;
    out += "file:       " + info.path + "\n";
    out += "container:  " + info.container + "\n";
    std::snprintf(line, sizeof line, "video:      %s, %s, %dx%d\n", info.video_codec.c_str(),
                  info.pixel_format.c_str(), info.width, info.height);
    out += line;
    if (info.is_image) {
        out += "kind:       still image\n";
    } else {
        if (info.fps.num > 0) {
            std::snprintf(line, sizeof line, "frame rate: %s fps (%.3f)\n", core::to_string(info.fps).c_str(),
                          info.fps.to_double());
            out += line;
        } else {
            out += "frame rate: unknown\n";
        }
        std::snprintf(line, sizeof line, "frames:     %lld\n", static_cast<long long>(info.frame_count));
        out += line;
        std::snprintf(line, sizeof line, "duration:   %.3f s\n", info.duration_seconds);
        out += line;
    }
    out += std::string("audio:      ") + (info.has_audio ? "yes" : "no") + "\n";
    return out;
}

void set_ffmpeg_verbose(bool verbose) { av_log_set_level(verbose ? AV_LOG_INFO : AV_LOG_FATAL); }

}  // namespace fl::media
