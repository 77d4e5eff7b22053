#include "frameloom/consistency/identity.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <opencv2/features2d.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include "consistency/cv_util.h"

namespace fl::consistency {
namespace {

// Soft colour histogram: L* in 6 bins over [0, 100], a* and b* in 8 bins over [-80, 80].
constexpr int kBinsL = 6, kBinsAB = 8;
constexpr double kRangeAB = 80.0;
constexpr int kMinKeypoints = 10;

using Histogram = std::vector<double>;

/// What identity compares: a foreground colour histogram, ORB descriptors, the largest face's colours.
struct Signature {
    Histogram colour;
    cv::Mat descriptors;
    int keypoints = 0;
    bool has_face = false;
    Histogram face_colour;
};

/// Median of each L*a*b* channel over a 2-pixel frame border: the backdrop estimate.
Lab border_median(const cv::Mat& lab) {
    std::vector<float> ch[3];
    const int b = std::max(1, std::min({2, lab.cols / 4, lab.rows / 4}));
    for (int y = 0; y < lab.rows; ++y) {
        const auto* p = lab.ptr<cv::Vec3f>(y);
        for (int x = 0; x < lab.cols; ++x) {
            if (y >= b && y < lab.rows - b && x >= b && x < lab.cols - b) continue;
            for (int c = 0; c < 3; ++c) ch[c].push_back(p[x][c]);
        }
    }
    double out[3];
    for (int c = 0; c < 3; ++c) {
        auto mid = ch[c].begin() + static_cast<std::ptrdiff_t>(ch[c].size() / 2);
        std::nth_element(ch[c].begin(), mid, ch[c].end());
        out[c] = *mid;
    }
    return {out[0], out[1], out[2]};
}

/// Adds `weight` spread linearly over the two nearest bins of each axis (8 bins touched).
void add_soft(Histogram& h, double l, double a, double b, double weight) {
    const auto pos = [](double v, double lo, double hi, int bins) {
        return std::clamp((v - lo) / (hi - lo) * bins - 0.5, 0.0, bins - 1.0);
    };
    const double pl = pos(l, 0, 100, kBinsL), pa = pos(a, -kRangeAB, kRangeAB, kBinsAB),
                 pb = pos(b, -kRangeAB, kRangeAB, kBinsAB);
    const int il = static_cast<int>(pl), ia = static_cast<int>(pa), ib = static_cast<int>(pb);
    const double fl = pl - il, fa = pa - ia, fb = pb - ib;
    for (int dl = 0; dl < 2; ++dl)
        for (int da = 0; da < 2; ++da)
            for (int db = 0; db < 2; ++db) {
                const int l2 = std::min(il + dl, kBinsL - 1), a2 = std::min(ia + da, kBinsAB - 1),
                          b2 = std::min(ib + db, kBinsAB - 1);
                const double w = (dl ? fl : 1 - fl) * (da ? fa : 1 - fa) * (db ? fb : 1 - fb);
                h[static_cast<size_t>((l2 * kBinsAB + a2) * kBinsAB + b2)] += weight * w;
            }
}

/// Colour histogram of `lab` weighted towards pixels that differ from the backdrop (ΔE76 > 12),
/// with chroma relative to the backdrop when asked. Uniform weights when that foreground is implausible.
Histogram colour_histogram(const cv::Mat& lab, bool relative) {
    const Lab backdrop = border_median(lab);
    cv::Mat fg(lab.size(), CV_8U);
    for (int y = 0; y < lab.rows; ++y) {
        const auto* p = lab.ptr<cv::Vec3f>(y);
        auto* m = fg.ptr<uchar>(y);
        for (int x = 0; x < lab.cols; ++x)
            m[x] = delta_e_76({p[x][0], p[x][1], p[x][2]}, backdrop) > 12.0 ? 1 : 0;
    }
    const double fraction = static_cast<double>(cv::countNonZero(fg)) / static_cast<double>(lab.total());
    const bool use_mask = fraction >= 0.005 && fraction <= 0.7;
    const double da = relative ? backdrop.a : 0.0, db = relative ? backdrop.b : 0.0;
    Histogram h(static_cast<size_t>(kBinsL * kBinsAB * kBinsAB), 0.0);
    double total = 0;
    for (int y = 0; y < lab.rows; ++y) {
        const auto* p = lab.ptr<cv::Vec3f>(y);
        const auto* m = fg.ptr<uchar>(y);
        for (int x = 0; x < lab.cols; ++x) {
            if (use_mask && !m[x]) continue;
            add_soft(h, p[x][0], p[x][1] - da, p[x][2] - db, 1.0);
            total += 1.0;
        }
    }
    if (total > 0)
        for (double& v : h) v /= total;
    return h;
}

/// Bhattacharyya coefficient of two normalised histograms: 1 identical, 0 disjoint.
double bhattacharyya(const Histogram& p, const Histogram& q) {
    double s = 0;
    for (size_t i = 0; i < p.size() && i < q.size(); ++i) s += std::sqrt(p[i] * q[i]);
    return std::clamp(s, 0.0, 1.0);
}

class Analyzer {
public:
    explicit Analyzer(const IdentityOptions& options) : options_(options) {
        orb_ = cv::ORB::create(500, 1.2f, 4, 15, 0, 2, cv::ORB::HARRIS_SCORE, 15);
        std::error_code ec;
        if (!options.face_cascade.empty() && std::filesystem::exists(options.face_cascade, ec)) {
            try {
                face_ok_ = faces_.load(options.face_cascade);
            } catch (const cv::Exception&) {
                face_ok_ = false;
            }
        }
    }
    bool face_detector() const { return face_ok_; }

    Signature signature(const core::Frame& frame, bool detect_faces) {
        const cv::Mat rgb = detail::downscale(detail::to_mat(frame), options_.analysis_width);
        const cv::Mat lab = detail::to_lab(rgb);
        Signature s;
        s.colour = colour_histogram(lab, options_.relative_to_backdrop);
        const cv::Mat gray = detail::to_gray(rgb);
        std::vector<cv::KeyPoint> kps;
        orb_->detectAndCompute(gray, cv::noArray(), kps, s.descriptors);
        s.keypoints = static_cast<int>(kps.size());
        if (detect_faces && face_ok_ && options_.face_weight > 0 && gray.cols >= 24 && gray.rows >= 24) {
            std::vector<cv::Rect> found;
            cv::Mat eq;
            cv::equalizeHist(gray, eq);
            faces_.detectMultiScale(eq, found, 1.1, 4, 0, cv::Size(24, 24));
            if (!found.empty()) {
                const auto largest = *std::max_element(
                    found.begin(), found.end(),
                    [](const cv::Rect& a, const cv::Rect& b) { return a.area() < b.area(); });
                s.has_face = true;
                s.face_colour = colour_histogram(lab(largest), false);
            }
        }
        return s;
    }

    /// Fraction of the smaller keypoint set with a distinctive match (Lowe's ratio 0.8), or -1.
    double keypoint_similarity(const Signature& ref, const Signature& frame) const {
        if (ref.keypoints < kMinKeypoints || frame.keypoints < kMinKeypoints) return -1.0;
        std::vector<std::vector<cv::DMatch>> knn;
        matcher_.knnMatch(ref.descriptors, frame.descriptors, knn, 2);
        int good = 0;
        for (const auto& m : knn)
            if (m.size() == 2 && m[0].distance < 0.8f * m[1].distance) ++good;
        return std::clamp(static_cast<double>(good) / std::min(ref.keypoints, frame.keypoints), 0.0, 1.0);
    }

    const IdentityOptions& options() const { return options_; }

private:
    IdentityOptions options_;
    cv::Ptr<cv::ORB> orb_;
    cv::BFMatcher matcher_{cv::NORM_HAMMING};
    cv::CascadeClassifier faces_;
    bool face_ok_ = false;
};

/// The three terms of one comparison (-1 where a term does not apply) and their weighted mean.
struct Terms {
    double colour = 0, keypoints = -1, face = -1, combined = 0;
};

Terms compare(const Analyzer& analyzer, const Signature& ref, const Signature& frame) {
    const auto& o = analyzer.options();
    Terms t;
    t.colour = bhattacharyya(ref.colour, frame.colour);
    t.keypoints = analyzer.keypoint_similarity(ref, frame);
    if (ref.has_face) t.face = frame.has_face ? bhattacharyya(ref.face_colour, frame.face_colour) : 0.0;
    double sum = o.colour_weight * t.colour, weights = o.colour_weight;
    if (t.keypoints >= 0) {
        sum += o.keypoint_weight * t.keypoints;
        weights += o.keypoint_weight;
    }
    if (t.face >= 0) {
        sum += o.face_weight * t.face;
        weights += o.face_weight;
    }
    t.combined = weights > 0 ? std::clamp(sum / weights, 0.0, 1.0) : 0.0;
    return t;
}

}  // namespace

core::Result<IdentityScore> measure_identity(const core::Video& video,
                                             const std::vector<core::Frame>& references,
                                             const IdentityOptions& options) {
    FL_TRY(detail::check_video(video, "clip"));
    if (references.empty()) return core::fail("identity needs at least one reference image");
    for (const auto& r : references) FL_TRY(detail::check_frame(r, "reference image"));
    Analyzer analyzer(options);
    std::vector<Signature> refs;
    IdentityScore score;
    score.face_detector = analyzer.face_detector();
    for (const auto& r : references) {
        refs.push_back(analyzer.signature(r, true));
        if (refs.back().has_face) ++score.reference_faces;
    }
    double colour_sum = 0, kp_sum = 0, face_sum = 0;
    int kp_count = 0, face_count = 0;
    score.min = 1.0;
    for (const auto& frame : video.frames) {
        // Frames are searched for faces only when a reference shows one: the face term needs both.
        const Signature s = analyzer.signature(frame, score.reference_faces > 0);
        Terms best;
        best.combined = -1;
        for (const auto& ref : refs) {
            const Terms t = compare(analyzer, ref, s);
            if (t.combined > best.combined) best = t;
        }
        score.per_frame.push_back(best.combined);
        score.min = std::min(score.min, best.combined);
        colour_sum += best.colour;
        if (best.keypoints >= 0) {
            kp_sum += best.keypoints;
            ++kp_count;
        }
        if (best.face >= 0) {
            face_sum += best.face;
            ++face_count;
        }
    }
    const double n = static_cast<double>(video.frames.size());
    for (double v : score.per_frame) score.clip += v / n;
    score.colour = colour_sum / n;
    if (kp_count > 0) score.keypoints = kp_sum / kp_count;
    if (face_count > 0) score.faces = face_sum / face_count;
    return score;
}

}  // namespace fl::consistency
