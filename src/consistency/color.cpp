#include "frameloom/consistency/color.h"

#include <cmath>
#include <numbers>

namespace fl::consistency {

double delta_e_76(const Lab& x, const Lab& y) {
    return std::sqrt((x.L - y.L) * (x.L - y.L) + (x.a - y.a) * (x.a - y.a) + (x.b - y.b) * (x.b - y.b));
}

double delta_e_2000(const Lab& x, const Lab& y) {
    constexpr double pi = std::numbers::pi;
    const auto deg = [](double r) { return r * 180.0 / pi; };
    const auto rad = [](double d) { return d * pi / 180.0; };
    const double c1 = std::hypot(x.a, x.b), c2 = std::hypot(y.a, y.b);
    const double c_mean = (c1 + c2) / 2.0;
    const double c7 = std::pow(c_mean, 7.0);
    const double g = 0.5 * (1.0 - std::sqrt(c7 / (c7 + std::pow(25.0, 7.0))));
    const double a1 = (1.0 + g) * x.a, a2 = (1.0 + g) * y.a;
    const double cp1 = std::hypot(a1, x.b), cp2 = std::hypot(a2, y.b);
    const auto hue = [&](double b, double a) {
        if (a == 0 && b == 0) return 0.0;
        double h = deg(std::atan2(b, a));
        return h < 0 ? h + 360.0 : h;
    };
    const double hp1 = hue(x.b, a1), hp2 = hue(y.b, a2);
    const double dl = y.L - x.L, dc = cp2 - cp1;
    double dh = 0.0;
    if (cp1 * cp2 != 0) {
        dh = hp2 - hp1;
        if (dh > 180)
            dh -= 360;
        else if (dh < -180)
            dh += 360;
    }
    const double dH = 2.0 * std::sqrt(cp1 * cp2) * std::sin(rad(dh / 2.0));
    const double l_mean = (x.L + y.L) / 2.0, cp_mean = (cp1 + cp2) / 2.0;
    double hp_mean = hp1 + hp2;
    if (cp1 * cp2 != 0) {
        if (std::abs(hp1 - hp2) <= 180)
            hp_mean /= 2.0;
        else
            hp_mean = (hp1 + hp2 < 360) ? (hp1 + hp2 + 360) / 2.0 : (hp1 + hp2 - 360) / 2.0;
    }
    const double t = 1 - 0.17 * std::cos(rad(hp_mean - 30)) + 0.24 * std::cos(rad(2 * hp_mean)) +
                     0.32 * std::cos(rad(3 * hp_mean + 6)) - 0.20 * std::cos(rad(4 * hp_mean - 63));
    const double d_theta = 30 * std::exp(-((hp_mean - 275) / 25) * ((hp_mean - 275) / 25));
    const double cp7 = std::pow(cp_mean, 7.0);
    const double rc = 2 * std::sqrt(cp7 / (cp7 + std::pow(25.0, 7.0)));
    const double sl =
        1 + 0.015 * (l_mean - 50) * (l_mean - 50) / std::sqrt(20 + (l_mean - 50) * (l_mean - 50));
    const double sc = 1 + 0.045 * cp_mean, sh = 1 + 0.015 * cp_mean * t;
    const double rt = -std::sin(rad(2 * d_theta)) * rc;
    const double tl = dl / sl, tc = dc / sc, th = dH / sh;
    return std::sqrt(tl * tl + tc * tc + th * th + rt * tc * th);
}

}  // namespace fl::consistency
