// frameloom-bench: times the generation pipeline without FFmpeg or Qt (for GPU machines built with
// -DFL_INFERENCE_ONLY=ON).  Usage: frameloom-bench [MODEL] [cpu|cuda|auto] [RUNS]
#include <cstdio>
#include <cstdlib>
#include <string>

#include "frameloom/inference/bench.h"
#include "frameloom/inference/process.h"

int main(int argc, char** argv) {
    fl::inference::prepare_process(argc, argv);
    using namespace fl;
    const std::string model = argc > 1 ? argv[1] : "default";
    inference::DevicePolicy policy;
    if (argc > 2) {
        auto device = inference::parse_device(argv[2]);
        if (!device) {
            std::fprintf(stderr, "frameloom-bench: %s\n", device.message().c_str());
            return 2;
        }
        policy.device = *device;
    }
    const int runs = argc > 3 ? std::atoi(argv[3]) : 3;
    const inference::ModelStore store(inference::ModelStore::default_roots());
    auto card = store.find(model);
    if (!card) {
        std::fprintf(stderr, "frameloom-bench: %s\n", card.message().c_str());
        return 2;
    }
    core::GenerationParams params = inference::default_params(*card);
    params.prompt = "a red circle moving left on a black background";
    auto report = inference::bench_generation(*card, policy, params, runs);
    if (!report) {
        std::fprintf(stderr, "frameloom-bench: %s\n", report.message().c_str());
        return 1;
    }
    std::fputs(inference::format_bench(*report).c_str(), stdout);
    return 0;
}
