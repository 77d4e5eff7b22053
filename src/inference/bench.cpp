#include "frameloom/inference/bench.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "inference/timing.h"

namespace fl::inference {

core::Result<BenchReport> bench_generation(const ModelCard& card, const DevicePolicy& policy,
                                           const core::GenerationParams& params, int runs) {
    if (runs < 1) return core::fail("bench needs at least one run");
    auto generator = Generator::load(card, policy);
    if (!generator) return generator.error();
    GenerateRequest request;
    request.params = params;
    GenerateStats warm;
    if (auto warmup = (*generator)->generate(request, &warm); !warmup) return warmup.error();

    std::vector<double> text, sampling, step, decode, total;
    BenchReport report;
    for (int i = 0; i < runs; ++i) {
        GenerateStats s;
        const auto start = std::chrono::steady_clock::now();
        auto video = (*generator)->generate(request, &s);
        if (!video) return video.error();
        report.video = std::move(*video);
        total.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        text.push_back(s.text_encode_seconds);
        sampling.push_back(s.sampling_seconds);
        step.push_back(s.seconds_per_step);
        decode.push_back(s.decode_seconds);
        report.median.tokens = s.tokens;
        report.median.peak_rss_bytes = std::max(report.median.peak_rss_bytes, s.peak_rss_bytes);
    }
    report.model = card.id;
    report.device = (*generator)->policy().describe();
    report.params = params;
    report.runs = runs;
    report.median.load_seconds = warm.load_seconds;
    report.median.text_encode_seconds = median(text);
    report.median.sampling_seconds = median(sampling);
    report.median.seconds_per_step = median(step);
    report.median.decode_seconds = median(decode);
    report.total_seconds = median(total);
    return report;
}

std::string format_bench(const BenchReport& r, const std::vector<std::pair<std::string, double>>& extra) {
    char buf[256];
    std::string out;
    std::snprintf(buf, sizeof buf, "model %s on %s (%u hardware threads), %dx%d, %d frames, %d steps, guidance %.1f, %d runs\n",
                  r.model.c_str(), r.device.c_str(), std::thread::hardware_concurrency(), r.params.width,
                  r.params.height, r.params.frames, r.params.steps, r.params.guidance, r.runs);
    out += buf;
    out += "| stage | median |\n|---|---|\n";
    const auto row = [&](const char* name, double seconds) {
        std::snprintf(buf, sizeof buf, "| %s | %.1f ms |\n", name, seconds * 1000.0);
        out += buf;
    };
    row("model load (once)", r.median.load_seconds);
    row("text encoding (prompt + negative)", r.median.text_encode_seconds);
    row("sampling step (DiT with CFG)", r.median.seconds_per_step);
    row("all sampling steps", r.median.sampling_seconds);
    row("codec decode", r.median.decode_seconds);
    for (const auto& [name, seconds] : extra) row(name.c_str(), seconds);
    row("whole generation", r.total_seconds);
    std::snprintf(buf, sizeof buf, "| DiT tokens | %lld |\n| peak memory (RSS) | %.1f MiB |\n",
                  static_cast<long long>(r.median.tokens), static_cast<double>(r.median.peak_rss_bytes) / (1024.0 * 1024.0));
    out += buf;
    return out;
}

}  // namespace fl::inference
