#include "frameloom/consistency/continuity.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <opencv2/imgproc.hpp>
#include <optional>

#include "consistency/cv_util.h"

namespace fl::consistency {
namespace {

/// Mean flow vector of the pixels that move more than half a pixel (zero when nothing moves).
cv::Vec2d mean_motion(const cv::Mat& a_rgb, const cv::Mat& b_rgb) {
    const cv::Mat flow =
        detail::farneback(detail::to_gray(a_rgb), detail::to_gray(b_rgb));  // a(x) ≈ b(x + f)
    cv::Vec2d sum(0, 0);
    int count = 0;
    for (int y = 0; y < flow.rows; ++y) {
        const auto* f = flow.ptr<cv::Vec2f>(y);
        for (int x = 0; x < flow.cols; ++x) {
            if (f[x][0] * f[x][0] + f[x][1] * f[x][1] < 0.25f) continue;
            sum += cv::Vec2d(f[x][0], f[x][1]);
            ++count;
        }
    }
    // flow points from a into b, so motion from a to b is +f
    return count > 0 ? sum / count : sum;
}

}  // namespace

core::Result<SeamMetrics> measure_seam(const core::Video& before, const core::Video& after,
                                       const SeamOptions& options) {
    FL_TRY(detail::check_video(before, "clip before the seam"));
    FL_TRY(detail::check_video(after, "clip after the seam"));
    const int grid = std::max(1, options.grid);
    const cv::Size full(before.width(), before.height());
    const auto prepare = [&](const core::Frame& f) {
        cv::Mat m = detail::to_mat(f);
        if (m.size() != full) cv::resize(m, m, full, 0, 0, cv::INTER_AREA);
        return detail::downscale(m, options.analysis_width);
    };
    const cv::Mat last = prepare(before.frames.back());
    const cv::Mat first = prepare(after.frames.front());
    const double to_full = static_cast<double>(full.width) / last.cols;

    SeamMetrics s;
    const cv::Mat lab_last = detail::to_lab(last), lab_first = detail::to_lab(first);
    const int cells_x = std::min(grid, last.cols), cells_y = std::min(grid, last.rows);
    double sum = 0;
    for (int cy = 0; cy < cells_y; ++cy) {
        for (int cx = 0; cx < cells_x; ++cx) {
            const int x0 = cx * last.cols / cells_x, x1 = (cx + 1) * last.cols / cells_x;
            const int y0 = cy * last.rows / cells_y, y1 = (cy + 1) * last.rows / cells_y;
            const cv::Rect cell(x0, y0, x1 - x0, y1 - y0);
            const double de =
                delta_e_2000(detail::mean_lab(lab_last(cell)), detail::mean_lab(lab_first(cell)));
            sum += de;
            s.delta_e_max = std::max(s.delta_e_max, de);
        }
    }
    s.delta_e = sum / (cells_x * cells_y);
    s.brightness_jump = detail::mean_lab(lab_first).L - detail::mean_lab(lab_last).L;

    if (before.frames.size() >= 2 && after.frames.size() >= 2) {
        const cv::Mat before_prev = prepare(before.frames[before.frames.size() - 2]);
        const cv::Mat after_next = prepare(after.frames[1]);
        const cv::Vec2d v0 = mean_motion(before_prev, last) * to_full;
        const cv::Vec2d v1 = mean_motion(first, after_next) * to_full;
        s.speed_before = cv::norm(v0);
        s.speed_after = cv::norm(v1);
        s.motion_jump = cv::norm(v1 - v0);
        if (s.speed_before > 0.25 && s.speed_after > 0.25) {
            const double c = std::clamp(v0.dot(v1) / (s.speed_before * s.speed_after), -1.0, 1.0);
            s.direction_change = std::acos(c) * 180.0 / std::numbers::pi;
        }
    }
    return s;
}

core::Result<SeamMetrics> measure_join(const core::Video& video, int64_t at, const SeamOptions& options) {
    if (at <= 0 || at >= video.frame_count())
        return core::fail("a join must be inside the clip: frame " + std::to_string(at) + " of " +
                          std::to_string(video.frame_count()));
    core::Video before, after;
    before.fps = after.fps = video.fps;
    before.frames.assign(video.frames.begin(), video.frames.begin() + at);
    after.frames.assign(video.frames.begin() + at, video.frames.end());
    return measure_seam(before, after, options);
}

core::Result<std::vector<CutMetrics>> measure_cuts(const core::Project& project,
                                                   const ClipFramesFn& frames_of,
                                                   const SeamOptions& options) {
    std::vector<CutMetrics> cuts;
    for (const core::Track& track : project.sequence.tracks) {
        if (track.kind != core::TrackKind::Video) continue;
        // Before:  [ a ][ b ]   [ c ]     After: cuts a|b and b|c (consecutive clips, gaps included)
        std::optional<core::Video> previous;
        std::string previous_id;
        for (const core::Clip& clip : track.clips) {
            auto video = frames_of(clip);
            if (!video)
                return core::fail(previous ? "cut " + previous_id + " | " + clip.id + ": " + video.message()
                                           : video.message());
            if (previous) {
                auto seam = measure_seam(*previous, *video, options);
                if (!seam) return core::fail("cut " + previous_id + " | " + clip.id + ": " + seam.message());
                cuts.push_back({track.id, previous_id, clip.id, clip.position, *seam});
            }
            previous = std::move(*video);
            previous_id = clip.id;
        }
    }
    return cuts;
}

}  // namespace fl::consistency
