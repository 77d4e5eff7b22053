#include "cli/args.h"

#include <cctype>
#include <cmath>

namespace fl::cli {

core::Result<Args> Args::parse(const std::vector<std::string>& argv, const std::set<std::string>& value_options,
                               const std::set<std::string>& flags, const std::string& command) {
    Args args;
    for (size_t i = 0; i < argv.size(); ++i) {
        std::string a = argv[i];
        if (a.size() > 1 && a[0] == '-' && !(a.size() > 1 && (std::isdigit(static_cast<unsigned char>(a[1])) || a[1] == '.'))) {
            std::string value;
            bool inline_value = false;
            if (const auto eq = a.find('='); eq != std::string::npos) {
                value = a.substr(eq + 1);
                a = a.substr(0, eq);
                inline_value = true;
            }
            if (flags.count(a)) {
                if (inline_value) return core::fail(a + " takes no value: see `frameloom " + command + " --help`");
                args.flags_.insert(a);
            } else if (value_options.count(a)) {
                if (!inline_value) {
                    if (i + 1 >= argv.size())
                        return core::fail(a + " needs a value: see `frameloom " + command + " --help`");
                    value = argv[++i];
                }
                args.values_[a].push_back(value);
            } else {
                return core::fail("unknown option '" + a + "' for `frameloom " + command + "`: see `frameloom " + command +
                                  " --help`");
            }
        } else {
            args.positionals_.push_back(a);
        }
    }
    return args;
}

std::optional<std::string> Args::get(const std::string& name) const {
    const auto it = values_.find(name);
    if (it == values_.end() || it->second.empty()) return std::nullopt;
    return it->second.back();
}

std::vector<std::string> Args::all(const std::string& name) const {
    const auto it = values_.find(name);
    return it == values_.end() ? std::vector<std::string>{} : it->second;
}

core::Result<long long> Args::get_int(const std::string& name, long long fallback) const {
    const auto v = get(name);
    if (!v) return fallback;
    try {
        size_t used = 0;
        const long long n = std::stoll(*v, &used);
        if (used == v->size()) return n;
    } catch (const std::exception&) {
    }
    return core::fail(name + ": expected a whole number, got '" + *v + "'");
}

core::Result<double> Args::get_double(const std::string& name, double fallback) const {
    const auto v = get(name);
    if (!v) return fallback;
    try {
        size_t used = 0;
        const double d = std::stod(*v, &used);
        if (used == v->size() && std::isfinite(d)) return d;
    } catch (const std::exception&) {
    }
    return core::fail(name + ": expected a number, got '" + *v + "'");
}

}  // namespace fl::cli
