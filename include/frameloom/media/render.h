#pragma once
/// The export engine: a sequence rendered through libav* to a finished film.

#include <filesystem>
#include <string>

#include "frameloom/core/cancel.h"
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

}  // namespace fl::media
