#pragma once
/// Builds the embedded default model's files (tokenizer, text encoder, DiT, card) into a model store.
/// Today the weights are a seeded random initialisation; training arrives with the "shapes world" model.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "frameloom/core/result.h"
#include "frameloom/inference/model_store.h"

namespace fl::inference {

/// Sizes of the default model: a small Wan DiT (temporal patch 4, 1×1 spatial) over an 8×8 pixel patch
/// codec (192 channels per frame) with "frame-mask" conditioning, and a small umT5-style text encoder.
struct DefaultModelSpec {
    std::string id = "shapes-tiny";
    uint64_t seed = 0;
    int vocab = 256;
    int64_t t5_dim = 128, t5_heads = 2, t5_ffn = 256, t5_layers = 2;
    /// text_len: the context the DiT's cross-attention sees (padded with zeros). The first models had 32; the
    /// longest paraphrases (capitals tokenise letter by letter) take 34 tokens, so the committed model (since
    /// 2026-12-07) is built with 48 (its card's build.command).
    int64_t dit_dim = 192, dit_heads = 3, dit_ffn = 512, dit_layers = 6, dit_freq_dim = 64, text_len = 32;
    int patch = 8;           ///< pixel patch of the codec (3·patch² latent channels per frame)
    int temporal_patch = 4;  ///< frames per DiT token (also the frames a reference group takes)
    /// The DiT takes each latent pixel's time, row and column as three more input channels (model card
    /// "position_channels", frame_conditioning.h). Starting from a model without them, their patch-embedding
    /// weights start at zero, so the new model first behaves exactly as the old one; starting from one with
    /// them always keeps them (its weights read them). Off by default, as the first models were built; the
    /// committed model has them (its card's build.command names every flag).
    bool position_channels = false;
    /// The DiT adds a Linear of the prompt's mean context row to its time embedding
    /// (WanDiTConfig::pooled_text), so the prompt reaches every token through the modulation as well as
    /// through cross-attention. Starts at zero (a model given it behaves as before); a source that has it
    /// keeps it. Off by default, as the first models were built; the committed model has it.
    bool pooled_text = false;
    /// Width of the DiT's detail head (WanDiTConfig::detail_hidden), an MLP beside the output head that
    /// reads each token's input pixels, so edges need not pass through the token's 192 channels. Its output
    /// layer starts at zero (a model given it behaves as before); a source that has one keeps it. 0 = none,
    /// as the first models were built.
    int64_t detail_hidden = 0;
    /// A trained model of this family to start from: its tokenizer, text encoder and DiT weights are copied,
    /// and when its tokens span k·temporal_patch frames the patch embedding and output head are split along
    /// time (the embedding of a token of frames (a, b) is the old one's of (a, a, b, b); the head's output
    /// for a frame is the mean of the old head's outputs for the frames it stands for). Empty: a seeded
    /// start.
    std::filesystem::path from_card;
};

/// Sentences of the shapes world (colours, shapes, motions, backgrounds, paraphrases) for the tokenizer.
std::vector<std::string> shapes_world_sentences();

/// Writes <root>/<id>.json, <root>/text_encoders/<id>-spm.model, <root>/text_encoders/<id>-t5.safetensors and
/// <root>/diffusion_models/<id>.safetensors. Same spec → identical weights. With from_card, the card keeps
/// the source's defaults and results are cleared (the model has to be trained again).
core::Result<ModelCard> build_default_model(const std::filesystem::path& root, const DefaultModelSpec& spec = {});

}  // namespace fl::inference
