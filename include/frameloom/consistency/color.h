#pragma once
/// CIE L*a*b* colours and colour differences (CIE76 and CIEDE2000), shared by every consistency metric.

namespace fl::consistency {

/// A colour in CIE L*a*b* (D65): L in [0, 100], a and b roughly in [-128, 127].
struct Lab {
    double L = 0.0;
    double a = 0.0;
    double b = 0.0;
};

/// CIE76 colour difference: the Euclidean distance in L*a*b*.
double delta_e_76(const Lab& x, const Lab& y);

/// CIEDE2000 colour difference (kL = kC = kH = 1), as in Sharma, Wu and Dalal (2005).
double delta_e_2000(const Lab& x, const Lab& y);

}  // namespace fl::consistency
