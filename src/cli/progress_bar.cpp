#include "cli/progress_bar.h"

#include <unistd.h>

#include <cstdio>

namespace fl::cli {

ProgressBar::ProgressBar(std::string title)
    : title_(std::move(title)), tty_(::isatty(STDERR_FILENO) != 0), start_(std::chrono::steady_clock::now()) {}

void ProgressBar::update(int64_t done, int64_t total, const std::string& label) {
    if (total <= 0) return;
    const double fraction = static_cast<double>(done) / static_cast<double>(total);
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double eta = fraction > 0.0 ? elapsed * (1.0 - fraction) / fraction : 0.0;
    const int decile = static_cast<int>(fraction * 10.0);
    if (!tty_ && decile == last_decile_ && done != total) return;  // logs get one line per 10%
    last_decile_ = decile;
    constexpr int kWidth = 24;
    std::string bar(kWidth, '-');
    for (int i = 0; i < static_cast<int>(fraction * kWidth + 0.5) && i < kWidth; ++i) bar[static_cast<size_t>(i)] = '#';
    std::fprintf(stderr, "%s%s [%s] %3d%%  %-14s %5.1f s, ETA %4.1f s%s", tty_ ? "\r" : "", title_.c_str(), bar.c_str(),
                 static_cast<int>(fraction * 100.0 + 0.5), label.c_str(), elapsed, eta, tty_ ? "\033[K" : "\n");
    std::fflush(stderr);
    drawn_ = true;
}

void ProgressBar::finish() {
    if (tty_ && drawn_) std::fputc('\n', stderr);
    drawn_ = false;
}

}  // namespace fl::cli
