#include "inference/arch/wan/config_util.h"

#include <nlohmann/json.hpp>

namespace fl::inference::wan {

std::string shape_str(const std::vector<int64_t>& s) {
    std::string out = "[";
    for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + "]";
}

std::optional<std::string> meta_field(const std::map<std::string, std::string>& metadata, const std::string& key) {
    if (auto it = metadata.find(key); it != metadata.end()) return it->second;
    auto cfg = metadata.find("config");
    if (cfg == metadata.end()) return std::nullopt;
    const nlohmann::json j = nlohmann::json::parse(cfg->second, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains(key)) return std::nullopt;
    const auto& v = j.at(key);
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number() || v.is_boolean() || v.is_array()) return v.dump();  // arrays: e.g. vace_layers
    return std::nullopt;
}

}  // namespace fl::inference::wan
