#pragma once
/// A one-line progress bar on stderr (redrawn in place on a terminal, sparse lines otherwise).

#include <chrono>
#include <cstdint>
#include <string>

namespace fl::cli {

/// Draws "label [#####-----] 50%  3/6  1.2 s, ETA 1.2 s".
class ProgressBar {
public:
    explicit ProgressBar(std::string title);
    void update(int64_t done, int64_t total, const std::string& label);
    /// Ends the line (keeps the last state visible).
    void finish();

private:
    std::string title_;
    bool tty_ = false;
    int last_decile_ = -1;
    bool drawn_ = false;
    std::chrono::steady_clock::time_point start_;
};

}  // namespace fl::cli
