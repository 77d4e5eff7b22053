#pragma once
/// A small argument parser for the frameloom subcommands: --name VALUE, --flag, positionals.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "frameloom/core/result.h"

namespace fl::cli {

/// Parsed command line of one subcommand.
class Args {
public:
    /// `value_options` take a value (repeatable ones collect every value), `flags` take none.
    /// Unknown options are an error naming the option.
    static core::Result<Args> parse(const std::vector<std::string>& argv, const std::set<std::string>& value_options,
                                    const std::set<std::string>& flags, const std::string& command);

    bool has(const std::string& name) const { return values_.count(name) > 0 || flags_.count(name) > 0; }
    std::optional<std::string> get(const std::string& name) const;
    std::vector<std::string> all(const std::string& name) const;
    const std::vector<std::string>& positionals() const { return positionals_; }

    /// Typed getters: error like "--steps: expected an integer, got 'x'".
    core::Result<long long> get_int(const std::string& name, long long fallback) const;
    core::Result<double> get_double(const std::string& name, double fallback) const;

private:
    std::map<std::string, std::vector<std::string>> values_;
    std::set<std::string> flags_;
    std::vector<std::string> positionals_;
};

}  // namespace fl::cli
