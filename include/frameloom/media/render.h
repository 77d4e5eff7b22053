#pragma once
/// The export engine: a sequence rendered through libav* to a finished film.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "frameloom/core/audio.h"
#include "frameloom/core/cancel.h"
#include "frameloom/core/frame.h"
#include "frameloom/core/project.h"
#include "frameloom/core/result.h"

namespace fl::media {

/// Container and codecs of a render, chosen by the target's extension.
enum class RenderFormat {
    Mp4H264Aac,    ///< ".mp4": H.264 (libx264, yuv420p) + AAC
    MovProResPcm,  ///< ".mov": ProRes 422 (prores_ks, yuv422p10le) + 16-bit PCM, for editors
};

/// The format for a target path (".mp4" / ".mov", any case); error names the extension.
core::Result<RenderFormat> render_format_for(const std::filesystem::path& target);

/// Options of one render (callbacks belong to the request).
struct RenderOptions {
    std::filesystem::path media_base;  ///< folder relative media references resolve against (the project's)
    int crf = 18;                      ///< H.264 quality (0 lossless .. 51)
    std::string preset = "medium";     ///< x264 preset
    int audio_rate = 48000;            ///< output sample rate
    core::ProgressFn progress;         ///< called per frame: (done, total, "frame 3/20")
    core::CancelFn cancel;             ///< checked per frame; on cancel nothing is left at the target
};

/// Renders `sequence` of `project` to `target`:
/// - video tracks composited with later tracks on top (V2 over V1), black where no clip is;
/// - crossfades (clip overlap, see core::Clip), fades to and from black, speed by nearest earlier frame;
/// - audio tracks mixed with gain, fades and crossfades (linear ramps), clipped to [-1, 1];
/// - size and rate from the sequence; media of another size is fitted inside it (letterboxed).
/// Written to a temporary name and renamed on success; errors are one line ("clip clip-3: media file not
/// found: ...", "cancelled by the user").
core::Result<void> render_sequence(const core::Project& project, const core::Sequence& sequence,
                                   const std::filesystem::path& target, const RenderOptions& options = {});

/// Composites single pictures of a sequence exactly as render_sequence does (same fades, crossfades,
/// speed and track order), for the studio's preview. Keeps its own copy of the project; readers stay
/// open between calls, so stepping forward decodes one frame.
class SequenceFrames {
public:
    /// `media_base`: the folder relative media references resolve against (the project's).
    SequenceFrames(core::Project project, std::filesystem::path media_base);
    ~SequenceFrames();
    SequenceFrames(const SequenceFrames&) = delete;
    SequenceFrames& operator=(const SequenceFrames&) = delete;

    /// Frames in the sequence (its duration).
    int64_t frame_count() const;
    /// The picture of sequence frame `f` at the sequence size (black where no clip is); error names the clip.
    core::Result<core::Frame> frame(int64_t f);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// Mixes the audio tracks of a sequence exactly as render_sequence does (the same code: gain, fades,
/// crossfades, speed, clipping), for the studio's preview. Keeps its own copy of the project; each clip's
/// audio is decoded once, on first use, and kept.
class SequenceAudio {
public:
    /// `media_base`: the folder relative media references resolve against; `sample_rate`: of the mix.
    SequenceAudio(core::Project project, std::filesystem::path media_base, int sample_rate = 48000);
    ~SequenceAudio();
    SequenceAudio(const SequenceAudio&) = delete;
    SequenceAudio& operator=(const SequenceAudio&) = delete;

    /// Sample rate of the mix.
    int sample_rate() const;
    /// First sample of sequence frame `f` (floor(f·rate/fps)), where the render puts it.
    int64_t sample_of_frame(int64_t f) const;
    /// Samples in the whole sequence (sample_of_frame of its duration).
    int64_t sample_count() const;
    /// True when some audio track holds a clip (otherwise every mix is silence).
    bool has_audio() const;
    /// Stereo float PCM of samples [s0, s1) of the sequence (silence outside clips and past the end), in
    /// [-1, 1]; the error names the clip whose media cannot be read.
    core::Result<core::Audio> mix(int64_t s0, int64_t s1, const core::CancelFn& cancel = {});

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace fl::media
