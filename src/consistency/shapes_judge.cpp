#include "frameloom/consistency/shapes_judge.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

namespace fl::consistency {
namespace shapes = core::shapes;
namespace {

double rgb_distance(const cv::Vec3d& a, shapes::Rgb b) {
    return std::sqrt((a[0] - b.r) * (a[0] - b.r) + (a[1] - b.g) * (a[1] - b.g) + (a[2] - b.b) * (a[2] - b.b));
}

double median(std::vector<double> v) {
    if (v.empty()) return 0.0;
    std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
    return v[v.size() / 2];
}

/// IoU of a region (cropped to its bounding box) with the ideal circle, square and triangle of that box,
/// drawn as the renderer draws them (pixel centres, object as tall as the box).
std::array<double, 3> template_iou(const cv::Mat& crop) {
    std::array<double, 3> iou{};
    const double h = crop.rows / 2.0, cx = crop.cols / 2.0, cy = crop.rows / 2.0;
    for (int s = 0; s < 3; ++s) {
        int inter = 0, uni = 0;
        for (int y = 0; y < crop.rows; ++y)
            for (int x = 0; x < crop.cols; ++x) {
                const double px = x + 0.5 - cx, py = y + 0.5 - cy;
                const bool in = s == 0 ? px * px + py * py <= h * h
                                : s == 1 ? std::abs(px) <= h && std::abs(py) <= h
                                         : std::abs(px) <= (py + h) / 2.0;
                const bool got = crop.at<uint8_t>(y, x) != 0;
                inter += in && got;
                uni += in || got;
            }
        iou[static_cast<size_t>(s)] = uni ? static_cast<double>(inter) / uni : 0.0;
    }
    return iou;
}

cv::Mat as_mat(const core::Frame& f) {
    return cv::Mat(f.height, f.width, CV_8UC3, const_cast<uint8_t*>(f.rgb.data()));  // RGB order
}

/// Per-channel median of the pixels where mask is set (or of the whole frame when the mask is empty).
cv::Vec3d median_colour(const cv::Mat& rgb, const cv::Mat& mask) {
    std::vector<double> ch[3];
    for (int y = 0; y < rgb.rows; ++y)
        for (int x = 0; x < rgb.cols; ++x) {
            if (!mask.empty() && !mask.at<uint8_t>(y, x)) continue;
            const cv::Vec3b p = rgb.at<cv::Vec3b>(y, x);
            for (int c = 0; c < 3; ++c) ch[c].push_back(p[c]);
        }
    return {median(ch[0]), median(ch[1]), median(ch[2])};
}

/// The largest connected part of a mask, filled (holes included), with its contour's area; empty when the
/// mask is.
struct Region {
    cv::Mat filled;
    double area = 0.0;
};
Region largest_region(const cv::Mat& mask) {
    std::vector<std::vector<cv::Point>> contours;
    cv::findContours(mask, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
    Region r{cv::Mat(mask.rows, mask.cols, CV_8U, cv::Scalar(0)), 0.0};
    if (contours.empty()) return r;
    const auto largest = std::max_element(contours.begin(), contours.end(), [](const auto& a, const auto& b) {
        return cv::contourArea(a) < cv::contourArea(b);
    });
    r.area = cv::contourArea(*largest);
    cv::drawContours(r.filled, contours, static_cast<int>(largest - contours.begin()), cv::Scalar(255),
                     cv::FILLED);
    return r;
}

/// The pixels near `region` whose colour lies at least half-way from `bg` to `object` (projected on the line
/// between the two colours), as the largest connected part. A hard-edged object gives back its own pixels.
cv::Mat half_contrast(const cv::Mat& rgb, const cv::Vec3d& bg, const cv::Vec3d& object,
                      const cv::Mat& region) {
    cv::Mat near;
    cv::dilate(region, near, cv::getStructuringElement(cv::MORPH_RECT, {3, 3}));
    const cv::Vec3d step = object - bg;
    const double len2 = step.dot(step);
    cv::Mat out(rgb.rows, rgb.cols, CV_8U, cv::Scalar(0));
    if (len2 < 1.0) return region.clone();
    for (int y = 0; y < rgb.rows; ++y)
        for (int x = 0; x < rgb.cols; ++x) {
            if (!near.at<uint8_t>(y, x)) continue;
            const cv::Vec3b p = rgb.at<cv::Vec3b>(y, x);
            const cv::Vec3d d(p[0] - bg[0], p[1] - bg[1], p[2] - bg[2]);
            if (d.dot(step) >= 0.5 * len2) out.at<uint8_t>(y, x) = 255;
        }
    return largest_region(out).filled & out;
}

}  // namespace

core::Result<ShapesJudgement> judge_shapes(const core::Video& video) {
    if (video.frames.empty()) return core::fail("the clip has no frames to judge");
    const int w = video.width(), h = video.height();
    ShapesJudgement out;

    // Background: the median colour of the frame border over the clip, named by the nearest background.
    cv::Mat border(h, w, CV_8U, cv::Scalar(0));
    const int m = std::max(1, std::min(w, h) / 16);
    cv::rectangle(border, cv::Rect(0, 0, w, h), cv::Scalar(255), m * 2);
    std::vector<cv::Vec3d> border_colours;
    for (const auto& f : video.frames) border_colours.push_back(median_colour(as_mat(f), border));
    cv::Vec3d bg;
    for (int c = 0; c < 3; ++c) {
        std::vector<double> v;
        for (const auto& b : border_colours) v.push_back(b[c]);
        bg[c] = median(v);
    }
    out.background_distance = 1e9;
    for (int i = 0; i < shapes::kBackgrounds; ++i) {
        const double d = rgb_distance(bg, shapes::rgb(static_cast<shapes::Background>(i)));
        if (d < out.background_distance) {
            out.background_distance = d;
            out.background = static_cast<shapes::Background>(i);
        }
    }

    // Object: per frame, the largest connected region that differs clearly from the background.
    std::vector<double> extents, xs, ys;
    std::array<std::vector<double>, 3> ious;
    std::vector<cv::Vec3d> colours;
    std::vector<int> frame_of;
    out.track.resize(video.frames.size());
    for (size_t fi = 0; fi < video.frames.size(); ++fi) {
        const cv::Mat rgb = as_mat(video.frames[fi]);
        cv::Mat diff;
        cv::absdiff(rgb, cv::Scalar(bg[0], bg[1], bg[2]), diff);
        std::vector<cv::Mat> channels;
        cv::split(diff, channels);
        cv::Mat dist = cv::max(cv::max(channels[0], channels[1]), channels[2]);
        cv::Mat mask = dist > 40;
        cv::morphologyEx(mask, mask, cv::MORPH_OPEN, cv::getStructuringElement(cv::MORPH_RECT, {2, 2}));
        const auto [region, area] = largest_region(mask);
        if (area < 0.004 * w * h) continue;  // no region, or a speck: not an object
        const cv::Moments mo = cv::moments(region, true);
        xs.push_back(mo.m10 / mo.m00 / w);
        ys.push_back(mo.m01 / mo.m00 / h);
        out.track[fi] = {true, mo.m10 / mo.m00, mo.m01 / mo.m00};
        frame_of.push_back(static_cast<int>(fi));
        // Its colour: the median of its pixels that differ most from the background (at least 80 % of the
        // largest difference), which a softened object keeps only at its core.
        double strongest = 0;
        cv::minMaxLoc(dist, nullptr, &strongest, nullptr, nullptr, region);
        const cv::Mat core = region & (dist >= 0.8 * strongest);
        const cv::Vec3d object = median_colour(rgb, core);
        colours.push_back(object);
        // The outline is where the colour is half-way from the background to the object's own colour: that
        // is the true edge of a softened (blurred, compressed) object, where the low threshold above lies
        // outside it and rounds every shape.
        const cv::Mat outline = half_contrast(rgb, bg, object, region);
        const cv::Rect box = cv::boundingRect(outline);
        if (box.area() == 0) continue;
        extents.push_back(cv::countNonZero(outline) / static_cast<double>(box.area()));
        const auto iou = template_iou(outline(box));
        for (size_t k = 0; k < 3; ++k) ious[k].push_back(iou[k]);
    }
    if (xs.empty()) return out;  // object_found stays false
    out.object_found = true;

    cv::Vec3d fg;
    for (int c = 0; c < 3; ++c) {
        std::vector<double> v;
        for (const auto& col : colours) v.push_back(col[c]);
        fg[c] = median(v);
    }
    out.colour_distance = 1e9;
    for (int i = 0; i < shapes::kColours; ++i) {
        const double d = rgb_distance(fg, shapes::rgb(static_cast<shapes::Colour>(i)));
        if (d < out.colour_distance) {
            out.colour_distance = d;
            out.colour = static_cast<shapes::Colour>(i);
        }
    }

    out.extent = median(extents);
    // The shape whose ideal mask overlaps the object best, by median IoU over the frames.
    double best = -1.0;
    for (size_t k = 0; k < 3; ++k)
        if (const double iou = median(ious[k]); iou > best) {
            best = iou;
            out.shape_iou = iou;
            out.shape = static_cast<shapes::Shape>(k);
        }

    // Motion: centroids averaged over the first and the last quarter of the frames where the object was found.
    const size_t q = std::max<size_t>(1, xs.size() / 4);
    const auto mean = [](const std::vector<double>& v, size_t from, size_t to) {
        double s = 0;
        for (size_t i = from; i < to; ++i) s += v[i];
        return s / static_cast<double>(to - from);
    };
    out.start_x = mean(xs, 0, q);
    out.start_y = mean(ys, 0, q);
    out.end_x = mean(xs, xs.size() - q, xs.size());
    out.end_y = mean(ys, ys.size() - q, ys.size());
    const double dx = out.end_x - out.start_x, dy = out.end_y - out.start_y;
    out.travel = std::hypot(dx, dy);
    // Travel of at least 30 % of the frame spread over the clip gives ≥ 15 % between the quarter means.
    if (out.travel < 0.10)
        out.motion = shapes::Motion::Still;
    else if (std::abs(dx) >= std::abs(dy))
        out.motion = dx < 0 ? shapes::Motion::Left : shapes::Motion::Right;
    else
        out.motion = dy < 0 ? shapes::Motion::Up : shapes::Motion::Down;
    return out;
}

}  // namespace fl::consistency
