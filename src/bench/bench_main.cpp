// frameloom-bench: times the generation pipeline without FFmpeg or Qt (for GPU machines built with
// -DFL_INFERENCE_ONLY=ON).  Usage: frameloom-bench [MODEL] [cpu|cuda|auto] [RUNS]
//                             frameloom-bench --wan wan2.1-1.3b|wan2.1-14b|wan2.2-5b [cpu|cuda|auto] [WxH]
#include <cstdio>
#include <cstdlib>
#include <string>

#include "frameloom/inference/bench.h"
#include "frameloom/inference/process.h"

int main(int argc, char** argv) {
    fl::inference::prepare_process(argc, argv);
    using namespace fl;
    const bool wan = argc > 1 && std::string(argv[1]) == "--wan";
    const int base = wan ? 2 : 0;  // --wan CONFIG shifts the positional arguments by two
    const std::string model = argc > 1 ? argv[wan ? 2 : 1] : "default";
    if (wan && argc < 3) {
        std::fprintf(stderr,
                     "frameloom-bench: --wan needs a configuration: wan2.1-1.3b, wan2.1-14b or wan2.2-5b\n");
        return 2;
    }
    inference::DevicePolicy policy;
    if (argc > base + 2) {
        auto device = inference::parse_device(argv[base + 2]);
        if (!device) {
            std::fprintf(stderr, "frameloom-bench: %s\n", device.message().c_str());
            return 2;
        }
        policy.device = *device;
    }
    if (wan) {
        inference::WanBenchOptions o;
        o.config = model;
        if (argc > base + 3 && std::sscanf(argv[base + 3], "%dx%d", &o.width, &o.height) != 2) {
            std::fprintf(stderr, "frameloom-bench: size must be WxH, e.g. 832x480\n");
            return 2;
        }
        auto report = inference::bench_wan_config(o, policy);
        if (!report) {
            std::fprintf(stderr, "frameloom-bench: %s\n", report.message().c_str());
            return 1;
        }
        std::fputs(inference::format_wan_bench(*report).c_str(), stdout);
        return 0;
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
