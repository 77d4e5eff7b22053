// `frameloom parity`: thin wrapper over fl::inference::run_parity (the logic lives in the inference library).
#include <cstdio>
#include <string>

#include "cli/args.h"
#include "cli/commands.h"
#include "frameloom/inference/parity.h"

namespace fl::cli {
namespace {

constexpr const char* kParityHelp =
    R"(usage: frameloom parity PREFIX [--write OUT.safetensors] [--tolerance F]

Runs this port of a reference golden's component on the golden's inputs and prints, for every output,
max |delta| against the golden's tensor of the same name. Reads PREFIX.io.safetensors, and
PREFIX.weights.safetensors when the component has weights; the io file's metadata "component" says what
to run: wan-dit (t2v, Wan2.2 ti2v), umt5-encoder, wan-vae, wan22-vae, clip-vision or flow-unipc.
CPU, fp32.

  --write PATH     also write the outputs, under the golden's tensor names, to this safetensors file
  --tolerance F    exit with status 1 when an output's max |delta| exceeds F (default: 1e-4)
)";

}  // namespace

int run_parity(const std::vector<std::string>& argv) {
    if (wants_help(argv)) {
        std::fputs(kParityHelp, stdout);
        return 0;
    }
    auto args = Args::parse(argv, {"--write", "--tolerance"}, {}, "parity");
    if (!args) return report_error(args.message(), 2);
    if (args->positionals().size() != 1)
        return report_error(
            "parity takes one golden prefix: frameloom parity tests/data/goldens/wan_dit_t2v_tiny", 2);
    auto tolerance = args->get_double("--tolerance", 1e-4);
    if (!tolerance) return report_error(tolerance.message(), 2);
    const std::string prefix = args->positionals()[0];
    const std::string out = args->get("--write").value_or("");

    auto report = inference::run_parity(prefix, out);
    if (!report) return report_error(report.message());
    std::printf("%s (%s): %s\n", report->component.c_str(), report->detail.c_str(), prefix.c_str());
    bool within = true;
    for (const auto& o : report->outputs) {
        std::string shape = "[";
        for (size_t i = 0; i < o.shape.size(); ++i) {
            if (i) shape.push_back(',');
            shape.append(std::to_string(o.shape[i]));
        }
        shape += "]";
        if (o.max_abs_diff) {
            const bool ok = *o.max_abs_diff <= *tolerance;
            within = within && ok;
            std::printf("  %-10s %-16s max |delta| = %.3g%s\n", o.name.c_str(), shape.c_str(),
                        *o.max_abs_diff, ok ? "" : "  (over tolerance)");
        } else {
            std::printf("  %-10s %-16s (no golden tensor of this name)\n", o.name.c_str(), shape.c_str());
        }
    }
    std::printf("max |delta| = %.3g over %zu outputs (tolerance %.3g): %s\n", report->max_abs_diff(),
                report->outputs.size(), *tolerance, within ? "ok" : "FAILED");
    if (!out.empty()) std::printf("wrote %s\n", out.c_str());
    return within ? 0 : 1;
}

}  // namespace fl::cli
