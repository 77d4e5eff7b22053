#include "frameloom/core/time.h"

#include <cmath>
#include <cstdio>
#include <numeric>
#include <stdexcept>

namespace fl::core {

namespace {
// 128-bit intermediates keep num·den products exact; __extension__ keeps -Wpedantic quiet about the GNU type.
__extension__ typedef __int128 Int128;
}  // namespace

Rational Rational::make(int64_t num, int64_t den) {
    if (den == 0) throw std::invalid_argument("Rational with zero denominator");
    if (den < 0) {
        num = -num;
        den = -den;
    }
    const int64_t g = std::gcd(num < 0 ? -num : num, den);
    if (g > 1) {
        num /= g;
        den /= g;
    }
    return Rational{num, den};
}

std::string to_string(const Rational& r) {
    if (r.den == 1) return std::to_string(r.num);
    return std::to_string(r.num) + "/" + std::to_string(r.den);
}

Result<FrameRate> parse_frame_rate(const std::string& text) {
    const auto bad = [&] {
        return fail("invalid frame rate '" + text + "': use a positive number such as 24, 23.976 or 30000/1001");
    };
    if (text.empty()) return bad();
    try {
        size_t used = 0;
        if (const auto slash = text.find('/'); slash != std::string::npos) {
            const long long num = std::stoll(text.substr(0, slash), &used);
            if (used != slash) return bad();
            const std::string den_text = text.substr(slash + 1);
            const long long den = std::stoll(den_text, &used);
            if (used != den_text.size() || num <= 0 || den <= 0) return bad();
            return Rational::make(num, den);
        }
        const double value = std::stod(text, &used);
        if (used != text.size() || !(value > 0.0) || value > 1000.0) return bad();
        // NTSC-style rates are exact multiples of 1000/1001.
        for (const int base : {24, 30, 48, 60, 120}) {
            const double ntsc = base * 1000.0 / 1001.0;
            if (std::abs(value - ntsc) < 0.005) return Rational::make(base * 1000LL, 1001);
        }
        if (std::abs(value - std::round(value)) < 1e-9) return Rational::make(std::llround(value), 1);
        return Rational::make(std::llround(value * 1000.0), 1000);
    } catch (const std::exception&) {
        return bad();
    }
}

double FrameTime::seconds() const {
    return static_cast<double>(frames) * static_cast<double>(rate.den) / static_cast<double>(rate.num);
}

int64_t rescale_frames(int64_t frames, FrameRate from, FrameRate to) {
    // frames / from = t seconds; t * to = frames * from.den * to.num / (from.num * to.den)
    const Int128 num = static_cast<Int128>(frames) * from.den * to.num;
    const Int128 den = static_cast<Int128>(from.num) * to.den;
    Int128 q = num / den;
    if ((num % den != 0) && ((num < 0) != (den < 0))) --q;  // floor
    return static_cast<int64_t>(q);
}

FrameTime FrameTime::rescaled(FrameRate to) const { return FrameTime{rescale_frames(frames, rate, to), to}; }

std::string FrameTime::timecode() const {
    const int64_t fps_int = (rate.num + rate.den - 1) / rate.den;
    const int64_t total = frames < 0 ? -frames : frames;
    const int64_t ff = total % fps_int;
    const int64_t secs = total / fps_int;
    char buf[48];
    std::snprintf(buf, sizeof buf, "%s%02lld:%02lld:%02lld:%02lld", frames < 0 ? "-" : "",
                  static_cast<long long>(secs / 3600), static_cast<long long>((secs / 60) % 60),
                  static_cast<long long>(secs % 60), static_cast<long long>(ff));
    return buf;
}

bool FrameTime::operator==(const FrameTime& o) const {
    // Equal when they denote the same instant.
    return static_cast<Int128>(frames) * rate.den * o.rate.num ==
           static_cast<Int128>(o.frames) * o.rate.den * rate.num;
}

int64_t frames_for_seconds(double seconds, FrameRate rate) {
    return std::llround(seconds * static_cast<double>(rate.num) / static_cast<double>(rate.den));
}

}  // namespace fl::core
