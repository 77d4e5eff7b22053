#pragma once
/// 3D rotary position embedding as in Wan (reference/wan.md §1.3): adjacent pairs (2j, 2j+1) rotate as one
/// complex number; head-dim pairs split across (frame, row, column) as d−4(d/6), 2(d/6), 2(d/6); float64.

#include <torch/torch.h>

#include <array>

namespace fl::inference {

/// Per-token angles' cos and sin for a (F, H, W) token grid in row-major (f, h, w) order.
struct RopeTable {
    torch::Tensor cos;  ///< [L, d/2] float64
    torch::Tensor sin;  ///< [L, d/2] float64
};

/// Angles pos·θ^(−2k/D) per axis (D = that axis' real dims), concatenated as (t, h, w) pairs.
RopeTable rope_table_3d(int64_t head_dim, const std::array<int64_t, 3>& grid, double theta = 10000.0);

/// Same table for arbitrary (possibly non-grid) positions: pos [L, 3] int64 (frame, row, column).
RopeTable rope_table_positions(int64_t head_dim, const torch::Tensor& pos, double theta = 10000.0);

/// x: [B, L, n, d] → x rotated in float64 and returned as fp32 [B, L, n, d]; the table covers the first
/// rows (L_table ≤ L); rows beyond it (padding) pass through unrotated.
torch::Tensor rope_apply(const torch::Tensor& x, const RopeTable& table);

}  // namespace fl::inference
