// frameloom — the command line of the Frameloom studio.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "frameloom/media/probe.h"
#include "frameloom/inference/process.h"

namespace {

constexpr const char* kUsage = R"(frameloom — generate video shots locally with open video diffusion models

usage: frameloom <command> [options]

commands:
  generate    generate a shot from a text prompt and write it as an MP4
  models      list the models installed in the model store, and where
  probe       describe a video or image file
  sheet       write a contact sheet (a clip's frames in a grid) as a PNG
  bench       time the generation pipeline on this machine
  init-model  (re)build the embedded default model's files
  train       train a model on the procedural shapes world
  check       measure flicker, warping error, identity and seams of a clip or project
  correct     colour-match a clip to a reference (per shot or at a cut, with a ramp) and deflicker it
  eval        measure how well a model follows shapes-world prompts (eval shapes | eval consistency)
  parity      run a reference golden through this port and report max |delta|
  render      render a project's sequence to a film (H.264 MP4 or ProRes MOV)
  synth-music write a synthesised piece of music (WAV) for a project's music track
  demo        build the demo project (a storyboard in the default model's world, generated, with music)

Run `frameloom <command> --help` for a command's options.
The studio is `frameloom-studio [PROJECT.flproj]`.
)";

}  // namespace

int main(int argc, char** argv) {
    fl::inference::prepare_process(argc, argv);
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        std::fputs(kUsage, args.empty() ? stderr : stdout);
        return args.empty() ? 2 : 0;
    }
    if (args[0] == "--version") {
        std::puts("frameloom 0.1.0");
        return 0;
    }
    fl::media::set_ffmpeg_verbose(false);  // FFmpeg's own chatter would bury our one-line errors
    const std::string command = args[0];
    args.erase(args.begin());
    if (command == "generate") return fl::cli::run_generate(args);
    if (command == "models") return fl::cli::run_models(args);
    if (command == "probe") return fl::cli::run_probe(args);
    if (command == "sheet") return fl::cli::run_sheet(args);
    if (command == "bench") return fl::cli::run_bench(args);
    if (command == "init-model") return fl::cli::run_init_model(args);
    if (command == "train") return fl::cli::run_train(args);
    if (command == "check") return fl::cli::run_check(args);
    if (command == "correct") return fl::cli::run_correct(args);
    if (command == "eval") return fl::cli::run_eval(args);
    if (command == "parity") return fl::cli::run_parity(args);
    if (command == "render") return fl::cli::run_render(args);
    if (command == "synth-music") return fl::cli::run_synth_music(args);
    if (command == "demo") return fl::cli::run_demo(args);
    return fl::cli::report_error("unknown command '" + command + "': run `frameloom --help` for the list", 2);
}
