#pragma once
/// The frameloom subcommands. Each returns the process exit status (0 ok, 1 failure, 2 bad usage).

#include <string>
#include <vector>

namespace fl::cli {

int run_generate(const std::vector<std::string>& args);
int run_models(const std::vector<std::string>& args);
int run_probe(const std::vector<std::string>& args);
int run_bench(const std::vector<std::string>& args);
int run_init_model(const std::vector<std::string>& args);
int run_train(const std::vector<std::string>& args);
int run_check(const std::vector<std::string>& args);
int run_eval(const std::vector<std::string>& args);
/// `frameloom eval consistency`: chained extension with/without correction, best-of-N on identity.
int run_eval_consistency(const std::vector<std::string>& args);
/// `frameloom parity PREFIX [--write OUT.safetensors] [--tolerance F]`: a golden against this port.
int run_parity(const std::vector<std::string>& args);
/// `frameloom render PROJECT.flproj -o FILM.mp4|FILM.mov [--sequence NAME]`: the export engine.
int run_render(const std::vector<std::string>& args);
/// `frameloom synth-music -o OUT.wav --seconds N [--seed N]`: the project's own music.
int run_synth_music(const std::vector<std::string>& args);

/// `frameloom demo [--out DIR]`: generates the demo project (storyboard, takes, cut, music).
int run_demo(const std::vector<std::string>& args);

/// `frameloom correct CLIP -o OUT.mp4 [--match REF] [--ramp N] [--deflicker]`: the consistency stage's
/// corrections applied to a clip.
int run_correct(const std::vector<std::string>& args);

/// `frameloom sheet CLIP -o SHEET.png`: a contact sheet of a clip's frames.
int run_sheet(const std::vector<std::string>& args);

/// True when the arguments ask for help (--help or -h anywhere).
bool wants_help(const std::vector<std::string>& argv);

/// Prints "frameloom: <message>" on stderr and returns `status`.
int report_error(const std::string& message, int status = 1);

}  // namespace fl::cli
