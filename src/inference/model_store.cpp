#include "frameloom/inference/model_store.h"

#include "frameloom/core/atomic_file.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <tuple>

#ifndef FL_SOURCE_MODELS_DIR
#define FL_SOURCE_MODELS_DIR ""
#endif

namespace fl::inference {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

/// Reads typed fields of a card, each error naming the card and the field.
class CardReader {
public:
    CardReader(const json& j, std::string where) : j_(j), where_(std::move(where)) {}

    core::Error bad(const std::string& field, const std::string& what) const {
        return core::fail("model card " + where_ + ": field '" + field + "' " + what + " (fix the card)");
    }

    core::Result<void> string(const json& obj, const std::string& key, const std::string& field, std::string& out,
                              bool required) const {
        const auto it = obj.find(key);
        if (it == obj.end() || it->is_null()) {
            if (required) return bad(field, "is missing");
            return core::ok();
        }
        if (!it->is_string()) return bad(field, "must be a string");
        out = it->get<std::string>();
        if (required && out.empty()) return bad(field, "must not be empty");
        return core::ok();
    }

    core::Result<void> strings(const json& obj, const std::string& key, std::vector<std::string>& out) const {
        const auto it = obj.find(key);
        if (it == obj.end() || it->is_null()) return core::ok();
        if (!it->is_array()) return bad(key, "must be a list of strings");
        for (const auto& v : *it) {
            if (!v.is_string()) return bad(key, "must be a list of strings");
            out.push_back(v.get<std::string>());
        }
        return core::ok();
    }

    core::Result<void> positive_int(const json& obj, const std::string& key, const std::string& field, int& out) const {
        const auto it = obj.find(key);
        if (it == obj.end() || it->is_null()) return core::ok();
        if (!it->is_number_integer() || it->get<int64_t>() <= 0 || it->get<int64_t>() > 1000000)
            return bad(field, "must be a positive whole number");
        out = static_cast<int>(it->get<int64_t>());
        return core::ok();
    }

    core::Result<void> number(const json& obj, const std::string& key, const std::string& field, double& out) const {
        const auto it = obj.find(key);
        if (it == obj.end() || it->is_null()) return core::ok();
        if (!it->is_number()) return bad(field, "must be a number");
        out = it->get<double>();
        return core::ok();
    }

    const json& root() const { return j_; }

private:
    const json& j_;
    std::string where_;
};

/// Card files directly inside a root, sorted by name so the first-wins rule is stable.
std::vector<fs::path> card_files(const fs::path& root) {
    std::vector<fs::path> out;
    std::error_code ec;
    if (!fs::is_directory(root, ec)) return out;
    for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
        const fs::path& p = it->path();
        std::error_code ec2;
        if (p.extension() == ".json" && fs::is_regular_file(p, ec2)) out.push_back(p);
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

std::string describe_role(const std::string& role) {
    static const std::map<std::string, std::string> names = {
        {"dit", "diffusion model"},
        {"text_encoder", "umT5 text encoder"},
        {"tokenizer", "tokenizer"},
        {"vae", "VAE"},
        {"clip_vision", "CLIP vision encoder"},
    };
    const auto it = names.find(role);
    return it == names.end() ? role : it->second;
}

std::vector<fs::path> ModelCard::accepted_files(const std::string& role) const {
    std::vector<fs::path> out;
    const auto absolute = [&](const std::string& rel) {
        const fs::path p(rel);
        return p.is_absolute() ? p : root / p;
    };
    if (const auto it = files.find(role); it != files.end() && !it->second.empty()) out.push_back(absolute(it->second));
    if (const auto it = alternatives.find(role); it != alternatives.end())
        for (const auto& rel : it->second) out.push_back(absolute(rel));
    return out;
}

fs::path ModelCard::file(const std::string& role) const {
    const auto it = files.find(role);
    if (it == files.end() || it->second.empty()) return {};
    const std::vector<fs::path> accepted = accepted_files(role);
    for (const auto& p : accepted) {
        std::error_code ec;
        if (fs::exists(p, ec)) return p;
    }
    return accepted.front();
}

std::vector<std::string> ModelCard::missing_files() const {
    std::vector<std::string> out;
    for (const auto& piece : missing()) out.push_back(piece.role + ": " + piece.path);
    return out;
}

std::vector<MissingPiece> ModelCard::missing() const {
    std::vector<MissingPiece> out;
    for (const auto& [role, rel] : files) {
        std::error_code ec;
        if (fs::exists(file(role), ec)) continue;
        const auto src = sources.find(role);
        out.push_back({role, describe_role(role), rel, src == sources.end() ? std::string() : src->second});
    }
    // In the order a user meets the pieces (the model, its text side, the codec, image conditioning), not by name.
    static const std::vector<std::string> order = {"dit", "text_encoder", "tokenizer", "vae", "clip_vision"};
    const auto rank = [](const std::string& role) {
        return static_cast<size_t>(std::find(order.begin(), order.end(), role) - order.begin());
    };
    std::stable_sort(out.begin(), out.end(),
                     [&](const MissingPiece& a, const MissingPiece& b) { return rank(a.role) < rank(b.role); });
    return out;
}

core::Result<ModelCard> load_model_card(const fs::path& card_path) {
    const std::string where = card_path.string();
    const auto text = core::read_file(card_path);
    if (!text) return core::fail("cannot read model card " + where + " (check the path)");
    const json j = json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return core::fail("model card " + where + " is not valid JSON (fix the card)");
    if (!j.is_object()) return core::fail("model card " + where + " is not a JSON object (fix the card)");
    const CardReader r(j, where);

    ModelCard c;
    c.card_path = card_path;
    c.root = card_path.parent_path().empty() ? fs::path(".") : card_path.parent_path();
    FL_TRY(r.string(j, "id", "id", c.id, true));
    FL_TRY(r.strings(j, "aliases", c.aliases));
    FL_TRY(r.string(j, "name", "name", c.name, false));
    if (c.name.empty()) c.name = c.id;
    FL_TRY(r.string(j, "description", "description", c.description, false));
    FL_TRY(r.string(j, "architecture", "architecture", c.architecture, true));
    FL_TRY(r.string(j, "codec", "codec", c.codec, false));
    if (const auto it = j.find("codec_patch"); it != j.end() && !it->is_null()) {
        if (!it->is_array() || it->size() != 3) return r.bad("codec_patch", "must be a list of three whole numbers [pt, ph, pw]");
        for (const auto& v : *it) {
            if (!v.is_number_integer() || v.get<int64_t>() <= 0 || v.get<int64_t>() > 1024)
                return r.bad("codec_patch", "must be a list of three positive whole numbers [pt, ph, pw]");
            c.codec_patch.push_back(static_cast<int>(v.get<int64_t>()));
        }
    }
    if (c.codec == "patch" && c.codec_patch.empty()) return r.bad("codec_patch", "is required when codec is \"patch\"");
    if (const auto it = j.find("files"); it != j.end() && !it->is_null()) {
        if (!it->is_object()) return r.bad("files", "must be an object {role: path}");
        for (const auto& [role, v] : it->items()) {
            if (!v.is_string() || v.get<std::string>().empty()) return r.bad("files." + role, "must be a file path");
            c.files[role] = v.get<std::string>();
        }
    }
    if (const auto it = j.find("alternatives"); it != j.end() && !it->is_null()) {
        if (!it->is_object()) return r.bad("alternatives", "must be an object {role: [path, ...]}");
        for (const auto& [role, v] : it->items()) {
            if (!c.files.contains(role)) return r.bad("alternatives." + role, "names a role that is not in 'files'");
            if (!v.is_array()) return r.bad("alternatives." + role, "must be a list of file paths");
            for (const auto& p : v) {
                if (!p.is_string() || p.get<std::string>().empty())
                    return r.bad("alternatives." + role, "must be a list of file paths");
                c.alternatives[role].push_back(p.get<std::string>());
            }
        }
    }
    if (const auto it = j.find("sources"); it != j.end() && !it->is_null()) {
        if (!it->is_object()) return r.bad("sources", "must be an object {role: url}");
        for (const auto& [role, v] : it->items()) {
            if (!v.is_string() || v.get<std::string>().empty()) return r.bad("sources." + role, "must be a URL");
            c.sources[role] = v.get<std::string>();
        }
    }
    if (const auto it = j.find("sizes"); it != j.end() && !it->is_null()) {
        const auto bad_sizes = [&] { return r.bad("sizes", "must be a list of sizes such as \"832x480\""); };
        if (!it->is_array()) return bad_sizes();
        for (const auto& v : *it) {
            if (!v.is_string()) return bad_sizes();
            const std::string text = v.get<std::string>();
            const size_t x = text.find('x');
            if (x == std::string::npos || x == 0 || x + 1 >= text.size()) return bad_sizes();
            const std::string w = text.substr(0, x), h = text.substr(x + 1);
            const auto digits = [](const std::string& d) {
                return d.size() <= 6 && std::all_of(d.begin(), d.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
            };
            if (!digits(w) || !digits(h)) return bad_sizes();
            const ModelSize size{std::stoi(w), std::stoi(h)};
            if (size.width <= 0 || size.height <= 0) return bad_sizes();
            c.sizes.push_back(size);
        }
    }
    FL_TRY(r.strings(j, "tasks", c.tasks));
    FL_TRY(r.string(j, "conditioning", "conditioning", c.conditioning, false));
    FL_TRY(r.string(j, "prediction", "prediction", c.prediction, false));
    if (c.prediction != "velocity" && c.prediction != "x0")
        return r.bad("prediction", "must be \"velocity\" or \"x0\" (got \"" + c.prediction + "\")");
    if (!c.conditioning.empty() && c.conditioning != "frame-mask")
        return r.bad("conditioning", "must be \"frame-mask\" or absent (got \"" + c.conditioning + "\")");
    if (const auto it = j.find("defaults"); it != j.end() && !it->is_null()) {
        if (!it->is_object()) return r.bad("defaults", "must be an object");
        const json& d = *it;
        ModelDefaults& out = c.defaults;
        FL_TRY(r.positive_int(d, "steps", "defaults.steps", out.steps));
        FL_TRY(r.number(d, "guidance", "defaults.guidance", out.guidance));
        FL_TRY(r.number(d, "shift", "defaults.shift", out.shift));
        FL_TRY(r.string(d, "sampler", "defaults.sampler", out.sampler, false));
        if (out.sampler != "euler" && out.sampler != "unipc" && out.sampler != "dpm++")
            return r.bad("defaults.sampler", "must be \"euler\", \"unipc\" or \"dpm++\" (got \"" + out.sampler + "\")");
        FL_TRY(r.positive_int(d, "width", "defaults.width", out.width));
        FL_TRY(r.positive_int(d, "height", "defaults.height", out.height));
        FL_TRY(r.positive_int(d, "frames", "defaults.frames", out.frames));
        if (const auto f = d.find("fps"); f != d.end() && !f->is_null()) {
            std::string text;
            if (f->is_string()) text = f->get<std::string>();
            else if (f->is_number_integer()) text = std::to_string(f->get<int64_t>());
            else return r.bad("defaults.fps", "must be a frame rate such as \"24\" or \"30000/1001\"");
            auto rate = core::parse_frame_rate(text);
            if (!rate || rate->num <= 0) return r.bad("defaults.fps", "must be a frame rate such as \"24\" or \"30000/1001\"");
            out.fps = *rate;
        }
        FL_TRY(r.string(d, "negative_prompt", "defaults.negative_prompt", out.negative_prompt, false));
    }
    if (const auto it = j.find("position_channels"); it != j.end() && !it->is_null()) {
        if (!it->is_boolean()) return r.bad("position_channels", "must be true or false");
        if (c.conditioning != "frame-mask")
            return r.bad("position_channels", "needs \"conditioning\": \"frame-mask\"");
        c.position_channels = it->get<bool>();
    }
    if (const auto it = j.find("trained"); it != j.end() && !it->is_null()) {
        if (!it->is_boolean()) return r.bad("trained", "must be true or false");
        c.trained = it->get<bool>();
    }
    return c;
}

ModelStore::ModelStore(std::vector<fs::path> roots) : roots_(std::move(roots)) {}

std::vector<fs::path> ModelStore::default_roots() {
    std::vector<fs::path> candidates;
    if (const char* env = std::getenv("FRAMELOOM_MODELS"); env && *env) {
        // Like PATH: several roots separated by ':'.
        std::string s(env);
        size_t start = 0;
        while (start <= s.size()) {
            const size_t end = std::min(s.find(':', start), s.size());
            if (end > start) candidates.emplace_back(s.substr(start, end - start));
            start = end + 1;
        }
    }
    candidates.emplace_back("models");
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec && !exe.empty()) candidates.push_back(exe.parent_path() / ".." / ".." / "models");
    if (*FL_SOURCE_MODELS_DIR) candidates.emplace_back(FL_SOURCE_MODELS_DIR);

    std::vector<fs::path> out;
    std::set<fs::path> seen;
    for (const auto& c : candidates) {
        std::error_code e;
        if (!fs::is_directory(c, e)) continue;
        const fs::path canon = fs::weakly_canonical(fs::absolute(c, e), e);
        if (seen.insert(canon).second) out.push_back(canon);
    }
    return out;
}

std::vector<ModelCard> ModelStore::list() const {
    std::vector<ModelCard> out;
    std::set<std::string> ids;
    for (const auto& root : roots_) {
        for (const auto& path : card_files(root)) {
            auto card = load_model_card(path);
            if (!card) continue;  // a broken card hides only itself; find() reports its error
            if (ids.insert(card->id).second) out.push_back(std::move(card.value()));
        }
    }
    return out;
}

std::vector<UnrecognisedFile> ModelStore::unrecognised_files() const {
    // Everything a card accepts, whether present or not, so an alternative never shows up as unrecognised.
    std::set<fs::path> claimed;
    std::vector<std::pair<fs::path, std::string>> shard_prefixes;  // (folder, "name-") of claimed sharded indexes
    const auto normal = [](const fs::path& p) {
        std::error_code ec;
        const fs::path n = fs::weakly_canonical(p, ec);
        return ec ? p.lexically_normal() : n;
    };
    for (const auto& card : list()) {
        for (const auto& [role, rel] : card.files) {
            for (const auto& p : card.accepted_files(role)) {
                const fs::path n = normal(p);
                claimed.insert(n);
                const std::string name = n.filename().string();
                const std::string index_suffix = ".safetensors.index.json";
                if (name.size() > index_suffix.size() && name.ends_with(index_suffix))
                    shard_prefixes.emplace_back(n.parent_path(), name.substr(0, name.size() - index_suffix.size()) + "-");
            }
        }
    }
    const auto is_checkpoint = [](const fs::path& p) {
        const std::string name = p.filename().string();
        if (name.ends_with(".index.json")) return true;
        static const std::set<std::string> exts = {".safetensors", ".sft", ".pth", ".pt", ".ckpt", ".bin", ".gguf"};
        return exts.contains(p.extension().string());
    };
    std::vector<UnrecognisedFile> out;
    std::set<fs::path> seen;
    for (const auto& root : roots_) {
        std::error_code ec;
        if (!fs::is_directory(root, ec)) continue;
        fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
        for (; !ec && it != end; it.increment(ec)) {
            const fs::path& p = it->path();
            const std::string name = p.filename().string();
            std::error_code ec2;
            if (it->is_directory(ec2)) {
                // Hidden folders (.cache, .git) and deep trees are not where users put checkpoints.
                if (name.starts_with(".") || it.depth() >= 4) it.disable_recursion_pending();
                continue;
            }
            if (it.depth() == 0 || !is_checkpoint(p) || !it->is_regular_file(ec2)) continue;
            const fs::path n = normal(p);
            if (claimed.contains(n) || !seen.insert(n).second) continue;
            const bool shard = std::any_of(shard_prefixes.begin(), shard_prefixes.end(), [&](const auto& sp) {
                return n.parent_path() == sp.first && name.starts_with(sp.second);
            });
            if (!shard) out.push_back({root, p.lexically_relative(root)});
        }
    }
    std::sort(out.begin(), out.end(), [](const UnrecognisedFile& a, const UnrecognisedFile& b) {
        return std::tie(a.root, a.relative) < std::tie(b.root, b.relative);
    });
    return out;
}

core::Result<ModelCard> ModelStore::find(const std::string& id_or_path) const {
    const fs::path as_path(id_or_path);
    std::error_code ec;
    if (as_path.extension() == ".json" || (id_or_path.find('/') != std::string::npos && fs::is_regular_file(as_path, ec))) {
        if (!fs::is_regular_file(as_path, ec))
            return core::fail("model card not found: " + id_or_path + " (check the path, or run `frameloom models`)");
        return load_model_card(as_path);
    }
    const std::vector<ModelCard> cards = list();
    for (const auto& c : cards)
        if (c.id == id_or_path) return c;
    for (const auto& c : cards)
        if (std::find(c.aliases.begin(), c.aliases.end(), id_or_path) != c.aliases.end()) return c;
    // A card named after the id that failed to load: its own error says more than "unknown".
    for (const auto& root : roots_) {
        const fs::path p = root / (id_or_path + ".json");
        if (fs::is_regular_file(p, ec)) {
            auto card = load_model_card(p);
            if (!card) return card.error();
        }
    }
    return core::fail("unknown model '" + id_or_path + "': run `frameloom models` to see installed models");
}

}  // namespace fl::inference

namespace fl::inference {

core::Result<void> record_card_field(const ModelCard& card, const std::string& field, const std::string& json_value) {
    const auto text = core::read_file(card.card_path);
    if (!text) return core::fail("cannot read model card " + card.card_path.string());
    auto doc = nlohmann::ordered_json::parse(*text, nullptr, false);
    auto value = nlohmann::ordered_json::parse(json_value, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) return core::fail("model card " + card.card_path.string() + " is not a JSON object");
    if (value.is_discarded()) return core::fail("cannot record '" + field + "': the value is not JSON");
    doc[field] = value;
    return core::write_file_atomically(card.card_path, doc.dump(2) + "\n");
}

}  // namespace fl::inference
