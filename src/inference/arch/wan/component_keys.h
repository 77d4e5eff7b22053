#pragma once
/// The umT5 text encoder and the Wan VAEs in the layouts users have, presented under the names the modules
/// use (the original release's): `models_t5_umt5-xxl-enc-bf16.pth` and `Wan2.1_VAE.pth` / `Wan2.2_VAE.pth`
/// (torch.save archives), ComfyUI's safetensors (`umt5_xxl_fp16.safetensors` in Hugging Face T5 names, its
/// fp8 "scaled" variant, `wan_2.1_vae.safetensors`), with or without a key prefix. See reference/wan.md §2–3.

#include <filesystem>

#include "frameloom/core/result.h"
#include "inference/arch/wan/clip.h"
#include "inference/arch/wan/t5.h"
#include "inference/weight_source.h"

namespace fl::inference::wan {

/// Hugging Face `T5EncoderModel` / `UMT5EncoderModel` → original names (`encoder.block.{i}.layer.0.
/// SelfAttention.q` → `blocks.{i}.attn.q`, `wi_0` → `ffn.gate.0`, `wi_1` → `ffn.fc1`, `wo` → `ffn.fc2`,
/// `shared` → `token_embedding`, `encoder.final_layer_norm` → `norm`, ...).
const KeyRenames& hf_t5_to_original_renames();

/// Opens a umT5 encoder checkpoint (file or folder, safetensors or .pth) under the original key names: a
/// prefix before the encoder's keys is stripped, Hugging Face names are mapped, and tensors the encoder does
/// not use (a decoder, a tied copy of the embedding, an embedded tokenizer) are left out.
core::Result<WeightSource> open_t5_weights(const std::filesystem::path& path);

/// Reads a umT5 encoder (open_t5_weights' layouts) into a module. A half-precision checkpoint (the release's
/// bf16 .pth, ComfyUI's fp16 or fp8) is held and run in bf16, as the reference runs it (umT5-XXL: 11 GB
/// instead of 23 GB in fp32); an fp32 checkpoint stays fp32.
core::Result<T5Encoder> load_t5_encoder(const std::filesystem::path& path);

/// Reads the CLIP ViT-H/14 visual tower Wan i2v/flf2v use: the release's
/// `models_clip_open-clip-xlm-roberta-large-vit-huge-14.pth` (`visual.*` keys; the text tower is ignored) or
/// a Hugging Face `CLIPVisionModel` file such as ComfyUI's `clip_vision_h.safetensors` (`vision_model.*`,
/// separate q/k/v projections, which are fused here into `to_qkv`). Held in fp32.
core::Result<CLIPVision> load_clip_vision(const std::filesystem::path& path);

/// Opens a Wan2.1 or Wan2.2 VAE checkpoint (file or folder, safetensors or .pth). Keys stay as stored (the
/// config finds a prefix); the diffusers layout (`encoder.conv_in`, `down_blocks`) is refused with a
/// message naming the files that work.
core::Result<WeightSource> open_vae_weights(const std::filesystem::path& path);

}  // namespace fl::inference::wan
