#include "inference/weight_source.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

#include "frameloom/core/atomic_file.h"
#include "inference/tensor_io.h"

namespace fl::inference {

namespace fs = std::filesystem;

namespace {

bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

/// Keys of ComfyUI's scaled-fp8 files that hold no weights of the model: scales and markers.
bool is_scale_key(const std::string& name) { return name == "scale_weight" || ends_with(name, ".scale_weight"); }
bool is_marker_key(const std::string& name) {
    return name == "scaled_fp8" || ends_with(name, ".scaled_fp8") || name == "scale_input" ||
           ends_with(name, ".scale_input");
}

/// Shard k of N as `<stem>-0000k-of-0000N.safetensors` names it.
struct ShardName {
    std::string stem;
    int index = 0;
    int count = 0;
    int digits = 5;
};

std::optional<ShardName> parse_shard_name(const std::string& filename) {
    static const std::regex re(R"(^(.*)-([0-9]+)-of-([0-9]+)\.safetensors$)");
    std::smatch m;
    if (!std::regex_match(filename, m, re)) return std::nullopt;
    ShardName s;
    s.stem = m[1].str();
    s.index = std::stoi(m[2].str());
    s.count = std::stoi(m[3].str());
    s.digits = static_cast<int>(m[2].length());
    return s;
}

std::string shard_filename(const ShardName& s, int k) {
    auto pad = [&](int v) {
        std::string t = std::to_string(v);
        if (static_cast<int>(t.size()) < s.digits) t.insert(0, static_cast<size_t>(s.digits) - t.size(), '0');
        return t;
    };
    return s.stem + "-" + pad(k) + "-of-" + pad(s.count) + ".safetensors";
}

}  // namespace

std::string apply_renames(std::string key, const KeyRenames& renames) {
    for (const auto& [from, to] : renames) {
        if (from.empty()) continue;
        for (size_t pos = key.find(from); pos != std::string::npos; pos = key.find(from, pos + to.size()))
            key.replace(pos, from.size(), to);
    }
    return key;
}

core::Result<void> WeightSource::add_file(const fs::path& path) {
    auto file = open_weights(path);
    if (!file) return file.error();
    const size_t index = files_->size();
    files_->push_back(std::move(*file));
    const WeightsFile& f = files_->back();
    for (const auto& [k, v] : f.metadata()) metadata_.emplace(k, v);
    for (const auto& info : f.tensors()) {
        const auto [it, inserted] = entries_.emplace(info.name, Entry{index, &info, 0, nullptr});
        if (!inserted)
            return core::fail("checkpoint is inconsistent: '" + info.name + "' is in both " +
                              (*files_)[it->second.file].path().string() + " and " + f.path().string() +
                              " (mixed-up shards? download them again)");
    }
    return core::ok();
}

void WeightSource::attach_scales() {
    std::map<std::string, Entry> kept;
    const auto global = entries_.find("scale_weight");
    for (const auto& [name, entry] : entries_) {
        if (is_scale_key(name) || is_marker_key(name)) continue;
        Entry e = entry;
        // ComfyUI: "<module>.weight" is scaled by "<module>.scale_weight"; also accept "<name>.scale_weight".
        std::vector<std::string> candidates;
        if (ends_with(name, ".weight")) candidates.push_back(name.substr(0, name.size() - 6) + "scale_weight");
        candidates.push_back(name + ".scale_weight");
        for (const auto& c : candidates) {
            if (auto it = entries_.find(c); it != entries_.end()) {
                e.scale_file = it->second.file;
                e.scale = it->second.info;
                break;
            }
        }
        const bool fp8 = e.info->dtype == DType::F8_E4M3 || e.info->dtype == DType::F8_E5M2;
        if (!e.scale && fp8 && global != entries_.end()) {
            e.scale_file = global->second.file;
            e.scale = global->second.info;
        }
        kept.emplace(name, e);
    }
    entries_ = std::move(kept);
}

core::Result<WeightSource> WeightSource::open(const fs::path& path_in) {
    WeightSource source;
    source.path_ = path_in;
    std::error_code ec;
    fs::path path = path_in;
    std::vector<fs::path> shards;  // a folder of k-of-N shards without an index

    if (fs::is_directory(path, ec)) {
        std::vector<fs::path> indexes, plain, archives;
        std::vector<std::pair<ShardName, fs::path>> numbered;
        for (const auto& de : fs::directory_iterator(path, ec)) {
            if (!de.is_regular_file()) continue;
            const std::string name = de.path().filename().string();
            if (ends_with(name, ".safetensors.index.json")) indexes.push_back(de.path());
            else if (auto s = parse_shard_name(name)) numbered.emplace_back(*s, de.path());
            else if (ends_with(name, ".safetensors")) plain.push_back(de.path());
            else if (ends_with(name, ".pth") || ends_with(name, ".pt"))
                archives.push_back(de.path());
        }
        if (ec) return core::fail("cannot list model folder " + path.string() + ": " + ec.message());
        if (indexes.size() > 1)
            return core::fail("model folder " + path.string() + " holds several *.safetensors.index.json files; " +
                              "point at the one to use");
        if (indexes.size() == 1) {
            path = indexes.front();
        } else if (!numbered.empty()) {
            const ShardName& first = numbered.front().first;
            for (const auto& [s, p] : numbered)
                if (s.stem != first.stem || s.count != first.count)
                    return core::fail("model folder " + path.string() + " mixes shards of different checkpoints (" +
                                      numbered.front().second.filename().string() + ", " + p.filename().string() +
                                      ")");
            for (int k = 1; k <= first.count; ++k) {
                const fs::path p = path / shard_filename(first, k);
                if (!fs::exists(p, ec))
                    return core::fail("sharded checkpoint incomplete: " + p.string() + " (shard " + std::to_string(k) +
                                      " of " + std::to_string(first.count) + ") is missing; download it again");
                shards.push_back(p);
            }
        } else if (plain.size() == 1) {
            path = plain.front();
        } else if (plain.empty() && archives.size() == 1) {
            path = archives.front();
        } else if (plain.empty() && archives.size() > 1) {
            return core::fail("model folder " + path.string() +
                              " holds several .pth files; point at the one to use");
        } else if (plain.empty()) {
            return core::fail("model folder " + path.string() + " holds no .safetensors or .pth weights");
        } else {
            return core::fail("model folder " + path.string() + " holds several .safetensors files but no index; " +
                              "point at the one to use");
        }
    }

    if (!shards.empty()) {
        for (const auto& p : shards) FL_TRY(source.add_file(p));
    } else if (ends_with(path.filename().string(), ".json")) {
        const std::string where = path.string();
        const auto text = core::read_file(path);
        if (!text) return core::fail("checkpoint index missing: " + where + " (check the path)");
        const auto j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
        if (j.is_discarded() || !j.is_object())
            return core::fail("checkpoint index " + where + " is not valid JSON; download it again");
        const auto wm = j.find("weight_map");
        if (wm == j.end() || !wm->is_object())
            return core::fail("checkpoint index " + where + " has no \"weight_map\" object; download it again");
        std::map<std::string, std::string> weight_map;  // key → shard file name
        std::vector<std::string> order;                  // shard file names, first seen first
        for (const auto& [k, v] : wm->items()) {
            if (!v.is_string())
                return core::fail("checkpoint index " + where + ": weight_map entry '" + k + "' is not a file name");
            const std::string shard = v.get<std::string>();
            if (shard.empty() || fs::path(shard).is_absolute() || shard.find("..") != std::string::npos)
                return core::fail("checkpoint index " + where + ": weight_map entry '" + k + "' names '" + shard +
                                  "', which is not a file beside the index");
            weight_map.emplace(k, shard);
            if (std::find(order.begin(), order.end(), shard) == order.end()) order.push_back(shard);
        }
        std::sort(order.begin(), order.end());
        const fs::path dir = path.parent_path();
        for (const auto& shard : order) {
            const fs::path p = dir / shard;
            if (!fs::exists(p, ec))
                return core::fail("sharded checkpoint incomplete: index " + where + " names shard " + p.string() +
                                  ", which is missing; download it again");
            const size_t before = source.files_->size();
            FL_TRY(source.add_file(p));
            for (const auto& info : (*source.files_)[before].tensors()) {
                const auto it = weight_map.find(info.name);
                if (it == weight_map.end())
                    return core::fail("sharded checkpoint inconsistent: " + p.string() + " holds '" + info.name +
                                      "', which index " + where + " does not list (mixed-up shards? download again)");
                if (it->second != shard)
                    return core::fail("sharded checkpoint inconsistent: " + p.string() + " holds '" + info.name +
                                      "', which index " + where + " puts in " + it->second);
            }
        }
        for (const auto& [k, shard] : weight_map)
            if (!source.entries_.count(k))
                return core::fail("sharded checkpoint inconsistent: index " + where + " puts '" + k + "' in " +
                                  (dir / shard).string() + ", which does not hold it; download it again");
    } else {
        FL_TRY(source.add_file(path));
    }
    source.attach_scales();
    return source;
}

void WeightSource::strip_prefix(const std::string& prefix) {
    if (prefix.empty()) return;
    std::map<std::string, Entry> out;
    for (auto& [name, entry] : entries_)
        if (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0)
            out.emplace(name.substr(prefix.size()), entry);
    entries_ = std::move(out);
}

void WeightSource::strip_prefix_before(const std::string& anchor) {
    if (find(anchor)) return;
    for (const auto& [name, entry] : entries_) {
        if (name.size() > anchor.size() && name.ends_with("." + anchor)) {
            strip_prefix(name.substr(0, name.size() - anchor.size()));
            return;
        }
    }
}

bool WeightSource::has_key_ending(const std::string& tail) const {
    return std::any_of(entries_.begin(), entries_.end(), [&](const auto& e) {
        return e.first == tail || (e.first.size() > tail.size() && e.first.ends_with("." + tail));
    });
}

void WeightSource::drop_if(const std::function<bool(const std::string&)>& drop) {
    for (auto it = entries_.begin(); it != entries_.end();)
        it = drop(it->first) ? entries_.erase(it) : std::next(it);
}

core::Result<void> WeightSource::rename(const KeyRenames& renames) {
    std::map<std::string, Entry> out;
    std::map<std::string, std::string> from;
    for (auto& [name, entry] : entries_) {
        std::string key = apply_renames(name, renames);
        if (auto it = from.find(key); it != from.end())
            return core::fail("checkpoint " + path_.string() + " holds both '" + it->second + "' and '" + name +
                              "', which are the same weight '" + key + "' (mixed layouts?)");
        from.emplace(key, name);
        out.emplace(std::move(key), entry);
    }
    entries_ = std::move(out);
    return core::ok();
}

const WeightSource::Entry* WeightSource::find(const std::string& name) const {
    const auto it = entries_.find(name);
    return it == entries_.end() ? nullptr : &it->second;
}

std::map<std::string, std::vector<int64_t>> WeightSource::shapes() const {
    std::map<std::string, std::vector<int64_t>> out;
    for (const auto& [name, entry] : entries_) out.emplace(name, entry.info->shape);
    return out;
}

core::Result<torch::Tensor> WeightSource::read(const Entry& entry) const {
    auto value = (*files_)[entry.file].read(*entry.info);
    if (!value) return value.error();
    if (!entry.scale) return value;
    const WeightsFile& sf = (*files_)[entry.scale_file];
    if (entry.scale->numel() != 1)
        return core::fail("scaled checkpoint " + sf.path().string() + ": '" + entry.scale->name + "' is " +
                          shape_text(entry.scale->shape) + ", not one number");
    auto scale = sf.read(*entry.scale);
    if (!scale) return scale.error();
    // Dequantise in f32: w = stored · scale.
    return value->to(torch::kFloat32) * scale->to(torch::kFloat32).reshape({});
}

core::Result<torch::Tensor> WeightSource::read(const std::string& name) const {
    const Entry* e = find(name);
    if (!e) return core::fail("tensor '" + name + "' not found in " + path_.string());
    return read(*e);
}

core::Result<void> load_module(torch::nn::Module& module, const WeightSource& source, bool strict) {
    ModuleFill fill;
    fill.where = source.path().string();
    fill.find = [&](const std::string& key) -> const TensorInfo* {
        const WeightSource::Entry* e = source.find(key);
        return e ? e->info : nullptr;
    };
    fill.file_of = [&](const std::string& key) { return source.file_of(*source.find(key)).string(); };
    fill.copy = [&](const std::string& key, const TensorInfo& info, torch::Tensor& target) -> core::Result<void> {
        const WeightSource::Entry& e = *source.find(key);
        const bool same_dtype = (info.dtype == DType::F32 && target.scalar_type() == torch::kFloat32) ||
                                (info.dtype == DType::F16 && target.scalar_type() == torch::kFloat16) ||
                                (info.dtype == DType::BF16 && target.scalar_type() == torch::kBFloat16);
        const SafeTensorsFile* mapped = source.files()[e.file].safetensors();
        if (!e.scale && mapped && same_dtype && target.device().is_cpu() && target.is_contiguous()) {
            // Same dtype on CPU: one copy straight from the mapping (halves peak memory for big checkpoints).
            if (info.nbytes) std::memcpy(target.data_ptr(), mapped->data(info), info.nbytes);
            return core::ok();
        }
        auto value = source.read(e);
        if (!value) return value.error();
        target.copy_(value->to(target.scalar_type()));
        return core::ok();
    };
    for (const auto& [name, entry] : source.entries()) fill.keys.push_back(name);
    return fill_module(module, fill, "", strict);
}

}  // namespace fl::inference
