#include "inference/blocks/rope.h"

#include <algorithm>

namespace fl::inference {
namespace {

// Real dims per axis: t gets d − 4(d/6), h and w get 2(d/6) each.
std::array<int64_t, 3> axis_dims(int64_t head_dim) {
    const int64_t s = head_dim / 6;
    return {head_dim - 4 * s, 2 * s, 2 * s};
}

// pos: [L] int64 → angles [L, D/2] float64 = pos · 1/θ^(2k/D)
torch::Tensor axis_angles(const torch::Tensor& pos, int64_t dims, double theta) {
    const auto f64 = torch::TensorOptions().dtype(torch::kDouble);
    const torch::Tensor inv =
        1.0 / torch::pow(theta, torch::arange(0, dims, 2, f64).div(static_cast<double>(dims)));
    return torch::outer(pos.to(torch::kDouble), inv);
}

}  // namespace

RopeTable rope_table_positions(int64_t head_dim, const torch::Tensor& pos, double theta) {
    TORCH_CHECK(pos.dim() == 2 && pos.size(1) == 3, "rope positions must be [L, 3]");
    const auto dims = axis_dims(head_dim);
    const torch::Tensor angles = torch::cat(
        {axis_angles(pos.select(1, 0), dims[0], theta), axis_angles(pos.select(1, 1), dims[1], theta),
         axis_angles(pos.select(1, 2), dims[2], theta)},
        1);  // [L, d/2]
    return {torch::cos(angles), torch::sin(angles)};
}

RopeTable rope_table_3d(int64_t head_dim, const std::array<int64_t, 3>& grid, double theta) {
    const auto i64 = torch::TensorOptions().dtype(torch::kLong);
    const auto [f, h, w] = grid;
    const torch::Tensor pf = torch::arange(f, i64).view({f, 1, 1}).expand({f, h, w});
    const torch::Tensor ph = torch::arange(h, i64).view({1, h, 1}).expand({f, h, w});
    const torch::Tensor pw = torch::arange(w, i64).view({1, 1, w}).expand({f, h, w});
    return rope_table_positions(head_dim, torch::stack({pf, ph, pw}, -1).reshape({f * h * w, 3}), theta);
}

torch::Tensor rope_apply(const torch::Tensor& x, const RopeTable& table) {
    TORCH_CHECK(x.dim() == 4, "rope_apply expects [B, L, n, d]");
    const int64_t b = x.size(0), l = x.size(1), n = x.size(2), d = x.size(3);
    const int64_t lt = table.cos.size(0);
    TORCH_CHECK(lt <= l && table.cos.size(1) * 2 == d, "rope table does not fit the tensor");
    // Padding rows (beyond the table) pass through as they are.
    torch::Tensor out = x.scalar_type() == torch::kFloat ? x.clone(torch::MemoryFormat::Contiguous)
                                                         : x.to(torch::kFloat).contiguous();
    // Token chunks keep the float64 temporaries near 64 MiB each on long sequences.
    const int64_t chunk = std::max<int64_t>(1, (int64_t{8} << 20) / std::max<int64_t>(1, b * n * d));
    for (int64_t s0 = 0; s0 < lt; s0 += chunk) {
        const int64_t len = std::min(chunk, lt - s0);
        // xr: [B, len, n, d/2, 2] as (re, im) pairs
        const torch::Tensor xr = x.narrow(1, s0, len).to(torch::kDouble).reshape({b, len, n, d / 2, 2});
        const torch::Tensor re = xr.select(-1, 0), im = xr.select(-1, 1);
        const torch::Tensor c = table.cos.narrow(0, s0, len).view({1, len, 1, d / 2});
        const torch::Tensor s = table.sin.narrow(0, s0, len).view({1, len, 1, d / 2});
        // (re + i·im)(c + i·s)
        out.narrow(1, s0, len)
            .copy_(torch::stack({re * c - im * s, re * s + im * c}, -1).reshape({b, len, n, d}));
    }
    return out;
}

}  // namespace fl::inference
