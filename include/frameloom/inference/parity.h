#pragma once
/// Parity against the reference goldens: runs this port of a golden's component (named by the io file's
/// `__metadata__` "component") on the golden's inputs, writes the outputs under the golden's tensor names and
/// measures max |Δ| against the golden. No FFmpeg needed (`frameloom parity`, benches, tests).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "frameloom/core/result.h"

namespace fl::inference {

/// One output of the port, as written.
struct ParityOutput {
    std::string name;  ///< the golden's tensor name: "out.0", "out", "timesteps", "x.3", ...
    std::vector<int64_t> shape;
    std::optional<double> max_abs_diff;  ///< against the golden's tensor of that name; empty when it has none
};

/// What one parity run compared.
struct ParityReport {
    std::string component;  ///< "wan-dit", "umt5-encoder", "flow-unipc"
    std::string detail;     ///< e.g. "t2v, batch 2" or "12 steps, shift 5"
    std::vector<ParityOutput> outputs;

    /// The largest max |Δ| over the outputs that have a golden (0 when none has one).
    double max_abs_diff() const;
};

/// The components run_parity implements: "wan-dit", "vace", "umt5-encoder", "wan-vae", "wan22-vae",
/// "clip-vision", "flow-unipc".
const std::vector<std::string>& parity_components();
/// Components run_parity knows but does not implement yet: "wan-vae", "wan22-vae", "clip-vision", "vace".
const std::vector<std::string>& parity_components_pending();

/// Reads PREFIX.io.safetensors (and PREFIX.weights.safetensors when the component has weights; a PREFIX that
/// already ends in ".io.safetensors" is accepted), runs the component on CPU in fp32 and, when `write_to` is
/// not empty, writes every output there with write_safetensors. A pending component fails with
/// "parity: component 'wan-vae' is not supported yet".
core::Result<ParityReport> run_parity(const std::filesystem::path& prefix,
                                      const std::filesystem::path& write_to = {});

}  // namespace fl::inference
