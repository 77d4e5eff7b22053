#pragma once
/// ComfyUI-style "fp8_scaled" checkpoints for tests: every matrix stored as fp8 e4m3fn with a per-tensor
/// `<module>.scale_weight`, plus the `scaled_fp8` marker; the dequantised weights are what a loader must
/// give.

#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "inference/tensor_io.h"

namespace fl::test {

/// fp8 e4m3fn → f32 (as the reader decodes it).
inline float e4m3_to_float(uint8_t v) {
    const int exp = (v >> 3) & 0xf, man = v & 0x7;
    float out = exp == 0 ? std::ldexp(static_cast<float>(man) / 8.0f, -6)
                         : std::ldexp(1.0f + static_cast<float>(man) / 8.0f, exp - 7);
    return (v & 0x80) ? -out : out;
}

/// f32 → nearest fp8 e4m3fn code (|x| ≤ 448).
inline uint8_t float_to_e4m3(float x) {
    uint8_t best = 0;
    float best_err = std::numeric_limits<float>::infinity();
    for (int c = 0; c < 0x7f; ++c) {  // 0x7f is NaN
        const float err = std::fabs(e4m3_to_float(static_cast<uint8_t>(c)) - std::fabs(x));
        if (err < best_err) {
            best_err = err;
            best = static_cast<uint8_t>(c);
        }
    }
    return x < 0 ? static_cast<uint8_t>(best | 0x80) : best;
}

struct ScaledFp8 {
    std::vector<inference::TensorBlob> blobs;          ///< what the file holds (prefixed names)
    std::map<std::string, torch::Tensor> dequantised;  ///< unprefixed name → the weight a loader must give
    size_t quantised = 0;                              ///< matrices stored as fp8
};

/// Quantises every `*.weight` of rank ≥ 2 in `named` (f32) to fp8 with scale max|w|/448; the rest stays f32.
inline ScaledFp8 quantise_scaled_fp8(const std::vector<std::pair<std::string, torch::Tensor>>& named,
                                     const std::string& prefix) {
    ScaledFp8 out;
    torch::NoGradGuard no_grad;
    for (const auto& [name, value] : named) {
        const torch::Tensor w = value.detach().to(torch::kFloat32).contiguous();
        const bool quantise = w.dim() >= 2 && name.size() > 7 && name.ends_with(".weight");
        if (!quantise) {
            out.dequantised[name] = w;
            out.blobs.push_back(inference::to_blob(prefix + name, w));
            continue;
        }
        const float scale = static_cast<float>(w.abs().max().item<double>() / 448.0);
        inference::TensorBlob q;
        q.name = prefix + name;
        q.dtype = inference::DType::F8_E4M3;
        q.shape = w.sizes().vec();
        q.bytes.resize(static_cast<size_t>(w.numel()));
        torch::Tensor deq = torch::empty_like(w);
        const float* src = w.data_ptr<float>();
        float* dst = deq.data_ptr<float>();
        for (int64_t i = 0; i < w.numel(); ++i) {
            q.bytes[static_cast<size_t>(i)] = float_to_e4m3(src[i] / scale);
            dst[i] = e4m3_to_float(q.bytes[static_cast<size_t>(i)]) * scale;
        }
        out.dequantised[name] = deq;
        out.blobs.push_back(std::move(q));
        out.blobs.push_back(inference::to_blob(prefix + name.substr(0, name.size() - 6) + "scale_weight",
                                               torch::tensor(scale)));
        ++out.quantised;
    }
    out.blobs.push_back({prefix + "scaled_fp8", inference::DType::F8_E4M3, {0}, {}});
    return out;
}

}  // namespace fl::test
