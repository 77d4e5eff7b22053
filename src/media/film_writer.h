#pragma once
/// Private to fl::media: the muxer and the video and audio encoders of one render (H.264+AAC in MP4 or
/// ProRes 422+PCM in MOV), writing a temp file that the caller's PendingFile later renames.

#include <filesystem>
#include <string>
#include <vector>

#include "frameloom/core/frame.h"
#include "frameloom/core/result.h"
#include "frameloom/core/time.h"
#include "media/libav.h"

namespace fl::media::detail {

/// What the film holds.
struct FilmSettings {
    bool mp4 = true;                ///< true: H.264 (yuv420p) + AAC in MP4; false: ProRes 422 + PCM in MOV
    int width = 0;
    int height = 0;
    core::FrameRate fps{24, 1};
    int audio_rate = 48000;         ///< stereo at this rate
    int crf = 18;                   ///< H.264 only
    std::string preset = "medium";  ///< x264 only
};

/// The muxer, the video and audio encoders of one render, writing the temp file (pts: frame index for
/// video, sample count for audio, so the film is frame-exact).
class FilmWriter {
public:
    FilmWriter(std::filesystem::path target, std::filesystem::path temp) : target_(std::move(target)), temp_(std::move(temp)) {}

    /// Opens both encoders and the muxer on the temp file and writes the header.
    core::Result<void> open(const FilmSettings& s);

    /// Encodes one RGB frame of the film's size as frame `index`.
    core::Result<void> add_video(const core::Frame& frame, int64_t index);

    /// Queues interleaved stereo samples; whole encoder frames are encoded as they fill.
    core::Result<void> add_audio(const float* samples, int64_t count);

    /// Encodes the queued samples, flushes both encoders, writes the trailer and closes the temp file.
    core::Result<void> finish();

private:
    core::Result<void> encode_audio(int n);

    core::Result<void> drain(AVCodecContext* codec, AVStream* stream);

    core::Error fail(const std::string& why) const { return core::fail("cannot write " + target_.string() + ": " + why); }
    core::Error fail(const std::string& what, int err) const { return fail(what + " (" + av_error_text(err) + ")"); }

    std::filesystem::path target_;
    std::filesystem::path temp_;
    OutputPtr mux_;
    CodecContextPtr video_;
    CodecContextPtr audio_;
    AVStream* vstream_ = nullptr;  // owned by mux_
    AVStream* astream_ = nullptr;
    AVPixelFormat pix_fmt_ = AV_PIX_FMT_YUV420P;
    int audio_frame_size_ = 1024;
    bool small_last_ = false;
    int64_t audio_pts_ = 0;
    std::vector<float> pending_;
    SwsPtr sws_;
    FramePtr rgb_;
    PacketPtr packet_;
};

}  // namespace fl::media::detail
