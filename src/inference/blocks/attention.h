#pragma once
/// Scaled dot-product attention behind one function: the fused kernel where the LibTorch in use has it
/// (2.x), a query-chunked softmax(q·kᵀ/√d)·v otherwise (1.13), so memory stays bounded on long sequences.

#include <torch/torch.h>

namespace fl::inference {

/// q: [B, n, Lq, d], k/v: [B, n, Lk, d], all of one dtype (f32 or bf16); no mask, scale 1/√d.
/// Returns [B, n, Lq, d] in the input dtype. Softmax statistics are fp32 whatever the input dtype.
torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v);

/// The plain path, always available (used by tests to cross-check the fused kernel).
torch::Tensor attention_reference(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v);

}  // namespace fl::inference
