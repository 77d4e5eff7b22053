#include "inference/arch/wan/dit_keys.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace fl::inference::wan {

const KeyRenames& diffusers_to_original_renames() {
    static const KeyRenames renames = {
        // Embedders (longest, most specific names first).
        {"condition_embedder.time_embedder.linear_1", "time_embedding.0"},
        {"condition_embedder.time_embedder.linear_2", "time_embedding.2"},
        {"condition_embedder.text_embedder.linear_1", "text_embedding.0"},
        {"condition_embedder.text_embedder.linear_2", "text_embedding.2"},
        {"condition_embedder.time_proj", "time_projection.1"},
        {"condition_embedder.image_embedder.norm1", "img_emb.proj.0"},
        {"condition_embedder.image_embedder.ff.net.0.proj", "img_emb.proj.1"},
        {"condition_embedder.image_embedder.ff.net.2", "img_emb.proj.3"},
        {"condition_embedder.image_embedder.norm2", "img_emb.proj.4"},
        {"condition_embedder.image_embedder.pos_embed", "img_emb.emb_pos"},
        // Self-attention.
        {"attn1.to_q", "self_attn.q"},
        {"attn1.to_k", "self_attn.k"},
        {"attn1.to_v", "self_attn.v"},
        {"attn1.to_out.0", "self_attn.o"},
        {"attn1.norm_q", "self_attn.norm_q"},
        {"attn1.norm_k", "self_attn.norm_k"},
        // Cross-attention (the image key/value first: "add_k_proj" must not meet a later "to_k").
        {"attn2.add_k_proj", "cross_attn.k_img"},
        {"attn2.add_v_proj", "cross_attn.v_img"},
        {"attn2.norm_added_k", "cross_attn.norm_k_img"},
        {"attn2.to_q", "cross_attn.q"},
        {"attn2.to_k", "cross_attn.k"},
        {"attn2.to_v", "cross_attn.v"},
        {"attn2.to_out.0", "cross_attn.o"},
        {"attn2.norm_q", "cross_attn.norm_q"},
        {"attn2.norm_k", "cross_attn.norm_k"},
        // FFN.
        {"ffn.net.0.proj", "ffn.0"},
        {"ffn.net.2", "ffn.2"},
        // Block norms: diffusers orders them norm1 SA, norm2 CA, norm3 FFN; the original norm1, norm3, norm2.
        // Swapped through a placeholder (img_emb's norm1/norm2 are already renamed above).
        {".norm2.", ".norm__placeholder."},
        {".norm3.", ".norm2."},
        {".norm__placeholder.", ".norm3."},
        // Modulation: "blocks.i.scale_shift_table" first, then the top-level one, which is the head's.
        {".scale_shift_table", ".modulation"},
        {"scale_shift_table", "head.modulation"},
        // VACE blocks: before_proj / after_proj are diffusers' proj_in / proj_out, which the head's top-level
        // "proj_out" (no leading dot) must not take.
        {".proj_in.", ".before_proj."},
        {".proj_out.", ".after_proj."},
        {"proj_out", "head.head"},
    };
    return renames;
}

bool is_diffusers_layout(const WeightSource& source) {
    for (const auto& [name, entry] : source.entries())
        if (name.starts_with("condition_embedder.") || name.starts_with("proj_out.") ||
            name.find(".attn1.") != std::string::npos)
            return true;
    return false;
}

namespace {

/// The Wan config.json of the checkpoint's folder as "config" metadata; nothing when there is none or it
/// belongs to something else (a config.json of another kind of model is not ours to read).
core::Result<void> add_folder_config(WeightSource& source, const std::filesystem::path& path) {
    std::error_code ec;
    const std::filesystem::path config =
        (std::filesystem::is_directory(path, ec) ? path : path.parent_path()) / "config.json";
    if (!std::filesystem::is_regular_file(config, ec)) return core::ok();
    std::ifstream in(config);
    nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object())
        return core::fail(config.string() +
                          " is not valid JSON: download it again, or remove it to read the "
                          "configuration from the weights");
    const std::string kind = j.value("_class_name", std::string());
    if (kind.rfind("Wan", 0) != 0) return core::ok();
    if (j.contains("num_attention_heads") && !j.contains("num_heads"))
        j["num_heads"] = j["num_attention_heads"];
    source.add_metadata("config", j.dump());
    return core::ok();
}

}  // namespace

core::Result<WeightSource> open_dit_weights(const std::filesystem::path& path) {
    auto source = WeightSource::open(path);
    if (!source) return source.error();
    FL_TRY(add_folder_config(*source, path));
    // ComfyUI and other repackagers prefix every key ("model.diffusion_model."): found from the one key every
    // Wan DiT has under both namings.
    source->strip_prefix_before("patch_embedding.weight");
    if (is_diffusers_layout(*source)) FL_TRY(source->rename(diffusers_to_original_renames()));
    return source;
}

}  // namespace fl::inference::wan
