#pragma once
/// Rational frame rates and frame-exact time. Positions on a timeline are whole frames at a rate.

#include <cstdint>
#include <string>

#include "frameloom/core/result.h"

namespace fl::core {

/// An exact rational number num/den with den > 0, kept in lowest terms.
struct Rational {
    int64_t num = 0;
    int64_t den = 1;

    /// Builds num/den reduced to lowest terms with a positive denominator (den != 0 required).
    static Rational make(int64_t num, int64_t den);
    double to_double() const { return static_cast<double>(num) / static_cast<double>(den); }
    bool operator==(const Rational& o) const { return num == o.num && den == o.den; }
    bool operator!=(const Rational& o) const { return !(*this == o); }
};

/// A frame rate such as 24/1 or 30000/1001 frames per second.
using FrameRate = Rational;

/// Parses "24", "23.976", "30000/1001" or "29.97" into an exact rate; error names the text.
Result<FrameRate> parse_frame_rate(const std::string& text);

/// "24", "30000/1001": the exact textual form used in project files.
std::string to_string(const Rational& r);

/// A time expressed as a whole number of frames at a rate (OpenTimelineIO's RationalTime, frame-exact).
struct FrameTime {
    int64_t frames = 0;
    FrameRate rate{24, 1};

    double seconds() const;
    /// The frame at `to` that starts at or before this time (floor), exact for integer ratios.
    FrameTime rescaled(FrameRate to) const;
    /// SMPTE-style "HH:MM:SS:FF" (non-drop, FF counted at the rounded-up integer rate).
    std::string timecode() const;
    bool operator==(const FrameTime& o) const;
};

/// Number of frames at `rate` covering `seconds` (rounded to nearest).
int64_t frames_for_seconds(double seconds, FrameRate rate);

/// Converts a frame count from one rate to another, rounding down (exact when divisible).
int64_t rescale_frames(int64_t frames, FrameRate from, FrameRate to);

}  // namespace fl::core
