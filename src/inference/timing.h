#pragma once
/// Wall-clock helpers shared by the pipeline and the benches.

#include <algorithm>
#include <chrono>
#include <vector>

namespace fl::inference {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

/// The median of `v` (the upper one of an even count); 0 for none.
inline double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

}  // namespace fl::inference
