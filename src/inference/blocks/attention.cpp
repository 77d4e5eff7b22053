#include "inference/blocks/attention.h"

#include <torch/version.h>

#include <algorithm>
#include <cmath>

namespace fl::inference {

torch::Tensor attention_reference(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
    TORCH_CHECK(q.dim() == 4 && k.dim() == 4 && v.dim() == 4, "attention expects [B, n, L, d] tensors");
    const int64_t b = q.size(0), n = q.size(1), lq = q.size(2), d = q.size(3), lk = k.size(2);
    const double scale = 1.0 / std::sqrt(static_cast<double>(d));
    // Chunk the queries so one chunk's fp32 scores stay near 256 MiB: [B, n, chunk, Lk].
    const int64_t budget = int64_t{64} << 20;  // floats
    const int64_t chunk = std::clamp<int64_t>(budget / std::max<int64_t>(1, b * n * lk), 1, lq);
    const torch::Tensor kt = k.transpose(-2, -1);  // [B, n, d, Lk]
    std::vector<torch::Tensor> outs;
    outs.reserve(static_cast<size_t>((lq + chunk - 1) / chunk));
    for (int64_t s = 0; s < lq; s += chunk) {
        const torch::Tensor qc = q.narrow(2, s, std::min(chunk, lq - s));
        torch::Tensor scores = torch::matmul(qc, kt).to(torch::kFloat).mul_(scale);  // [B, n, c, Lk]
        torch::Tensor p = torch::softmax(scores, -1).to(v.scalar_type());
        outs.push_back(torch::matmul(p, v));  // [B, n, c, d]
    }
    return outs.size() == 1 ? outs.front() : torch::cat(outs, 2);
}

torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
#if TORCH_VERSION_MAJOR >= 2
    // The fused kernels never hold the [Lq, Lk] scores. On CPU they arrived in 2.2; 2.0/2.1 CPU would fall
    // back to a math path that materialises every score (~100 GB at 480p), so those keep the chunked path.
#if TORCH_VERSION_MAJOR > 2 || TORCH_VERSION_MINOR >= 2
    constexpr bool cpu_fused = true;
#else
    constexpr bool cpu_fused = false;
#endif
    if (cpu_fused || !q.device().is_cpu()) return at::scaled_dot_product_attention(q, k, v);
    return attention_reference(q, k, v);
#else
    // Without the fused kernel, bf16 here would round the scores and pay for converting the [B, n, Lq, Lk]
    // score tensor twice (1.13's CPU bf16↔f32 copies are slow): fp32 products measure faster and are exact.
    if (q.device().is_cpu() && q.scalar_type() == torch::kBFloat16) {
        return attention_reference(q.to(torch::kFloat), k.to(torch::kFloat), v.to(torch::kFloat))
            .to(torch::kBFloat16);
    }
    return attention_reference(q, k, v);
#endif
}

}  // namespace fl::inference
