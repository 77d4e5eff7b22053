// frameloom render / synth-music: the export engine and the project's own music, from the command line.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/progress_bar.h"
#include "frameloom/core/project_file.h"
#include "frameloom/media/audio.h"
#include "frameloom/media/render.h"

namespace fl::cli {
namespace fs = std::filesystem;

namespace {

// Ctrl-C stops the render between frames; the temp file is removed and the target never appears.
std::atomic<bool> g_render_interrupted{false};
void on_render_interrupt(int) { g_render_interrupted.store(true); }

bool help_asked(const std::vector<std::string>& argv) {
    for (const auto& a : argv)
        if (a == "--help" || a == "-h") return true;
    return false;
}

constexpr const char* kRenderHelp = R"(usage: frameloom render PROJECT.flproj -o FILM.mp4|FILM.mov [--sequence NAME] [--crf N] [--preset P]

Renders the project's sequence to a film (the file appears only when the render succeeded):
  .mp4  H.264 (yuv420p) + AAC          .mov  ProRes 422 + 16-bit PCM, for editors
Size and frame rate come from the sequence; video tracks are composited (later tracks on top), with
crossfades, fades and clip speed; audio tracks are mixed with gain and fades.

  -o, --output PATH  the film to write (required)
  --sequence NAME    the sequence to render, by name (a project holds one; default: it)
  --crf N            H.264 quality, 0 (lossless) .. 51 (default 18)
  --preset P         x264 preset, e.g. ultrafast, medium, slow (default medium)
)";

constexpr const char* kSynthHelp = R"(usage: frameloom synth-music -o OUT.wav --seconds N [--seed N] [--bpm N] [--rate HZ]

Writes a small piece of music made by Frameloom itself (a four-chord progression with pads, arpeggio and
bass, key and pattern picked by the seed) as 16-bit stereo WAV, for demo projects and tests.
)";

}  // namespace

int run_render(const std::vector<std::string>& argv) {
    if (help_asked(argv)) {
        std::fputs(kRenderHelp, stdout);
        return 0;
    }
    auto args = Args::parse(argv, {"-o", "--output", "--sequence", "--crf", "--preset"}, {}, "render");
    if (!args) return report_error(args.message(), 2);
    if (args->positionals().size() != 1)
        return report_error("render takes one project: frameloom render PROJECT.flproj -o FILM.mp4", 2);
    const auto output = args->get("-o") ? args->get("-o") : args->get("--output");
    if (!output) return report_error("-o FILM.mp4 is required: say where to write the film", 2);
    if (auto format = media::render_format_for(*output); !format) return report_error(format.message(), 2);
    auto crf = args->get_int("--crf", 18);
    if (!crf) return report_error(crf.message(), 2);

    const fs::path project_path = args->positionals()[0];
    auto project = core::load_project(project_path);
    if (!project) return report_error(project.message());
    if (const auto name = args->get("--sequence"); name && *name != project->sequence.name)
        return report_error("the project has no sequence '" + *name + "' (its sequence is '" +
                                project->sequence.name + "')",
                            2);

    media::RenderOptions options;
    std::error_code ec;
    options.media_base = fs::absolute(project_path, ec).parent_path();
    options.crf = static_cast<int>(*crf);
    options.preset = args->get("--preset").value_or("medium");
    ProgressBar bar("rendering");
    options.progress = [&](int64_t done, int64_t total, const std::string& label) { bar.update(done, total, label); };
    std::signal(SIGINT, on_render_interrupt);
    std::signal(SIGTERM, on_render_interrupt);
    options.cancel = [] { return g_render_interrupted.load(); };
    auto rendered = media::render_sequence(*project, project->sequence, *output, options);
    bar.finish();
    if (!rendered) return report_error(rendered.message(), core::is_cancelled_message(rendered.message()) ? 130 : 1);
    std::printf("%s\n", output->c_str());
    return 0;
}

int run_synth_music(const std::vector<std::string>& argv) {
    if (help_asked(argv)) {
        std::fputs(kSynthHelp, stdout);
        return 0;
    }
    auto args = Args::parse(argv, {"-o", "--output", "--seconds", "--seed", "--bpm", "--rate"}, {}, "synth-music");
    if (!args) return report_error(args.message(), 2);
    if (!args->positionals().empty())
        return report_error("unexpected argument '" + args->positionals()[0] + "'", 2);
    const auto output = args->get("-o") ? args->get("-o") : args->get("--output");
    if (!output) return report_error("-o OUT.wav is required: say where to write the music", 2);
    if (fs::path(*output).extension() != ".wav") return report_error("synth-music writes WAV: name the file OUT.wav", 2);
    auto seconds = args->get_double("--seconds", -1);
    auto seed = args->get_int("--seed", 0);
    auto bpm = args->get_double("--bpm", 96);
    auto rate = args->get_int("--rate", 48000);
    if (!seconds || !seed || !bpm || !rate)
        return report_error(!seconds ? seconds.message() : !seed ? seed.message() : !bpm ? bpm.message() : rate.message(), 2);
    if (*seconds <= 0 || *seconds > 3600) return report_error("--seconds N is required: a length between 0 and 3600", 2);
    if (*bpm < 20 || *bpm > 300) return report_error("--bpm must be between 20 and 300", 2);
    if (*rate < 8000 || *rate > 192000) return report_error("--rate must be between 8000 and 192000", 2);
    if (*seed < 0) return report_error("--seed must not be negative", 2);
    media::MusicOptions o;
    o.seconds = *seconds;
    o.seed = static_cast<uint64_t>(*seed);
    o.bpm = *bpm;
    o.sample_rate = static_cast<int>(*rate);
    auto written = media::write_wav(media::synthesize_music(o), *output);
    if (!written) return report_error(written.message());
    std::printf("%s\n", output->c_str());
    return 0;
}

}  // namespace fl::cli
