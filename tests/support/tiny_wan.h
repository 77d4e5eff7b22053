#pragma once
/// The tiny Wan DiT configuration the inference tests build their models from (random weights, CPU-fast).

#include <torch/torch.h>

#include "inference/arch/wan/dit.h"

namespace fl::test {

/// A t2v DiT of width 32 (2 heads), 4 latent channels in and out, a 24-wide text context of 8 tokens.
inline inference::wan::WanDiTConfig tiny_wan_config(int64_t layers = 2) {
    inference::wan::WanDiTConfig c;
    c.dim = 32;
    c.ffn_dim = 48;
    c.freq_dim = 16;
    c.text_dim = 24;
    c.text_len = 8;
    c.num_heads = 2;
    c.num_layers = layers;
    c.in_dim = 4;
    c.out_dim = 4;
    return c;
}

/// Every parameter of `module` drawn from N(0, std²) (the initialisation's zero heads would hide errors).
inline void randomise(torch::nn::Module& module, double std) {
    torch::NoGradGuard no_grad;
    for (auto& p : module.parameters()) p.normal_(0.0, std);
}

}  // namespace fl::test
