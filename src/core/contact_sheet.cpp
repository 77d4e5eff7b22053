#include "frameloom/core/contact_sheet.h"

#include <algorithm>
#include <string>

namespace fl::core {

Result<Frame> contact_sheet(const Video& video, const ContactSheetOptions& o) {
    if (video.frames.empty()) return fail("the clip has no frames to lay out");
    if (o.columns < 1 || o.every < 1 || o.scale < 1 || o.gap < 0)
        return fail("contact sheet: columns, every and scale must be at least 1 and the gap not negative");
    const int fw = video.width() * o.scale, fh = video.height() * o.scale;
    const int count = static_cast<int>((video.frames.size() - 1) / static_cast<size_t>(o.every) + 1);
    const int columns = std::min(o.columns, count), rows = (count + columns - 1) / columns;
    Frame sheet(columns * fw + (columns - 1) * o.gap, rows * fh + (rows - 1) * o.gap);
    std::fill(sheet.rgb.begin(), sheet.rgb.end(), uint8_t{128});
    for (int i = 0; i < count; ++i) {
        const Frame& f = video.frames[static_cast<size_t>(i) * static_cast<size_t>(o.every)];
        if (f.width * o.scale != fw || f.height * o.scale != fh)
            return fail("contact sheet: frame " + std::to_string(i * o.every) +
                        " has another size than frame 0");
        const int x0 = (i % columns) * (fw + o.gap), y0 = (i / columns) * (fh + o.gap);
        for (int y = 0; y < fh; ++y)
            for (int x = 0; x < fw; ++x)
                std::copy_n(f.pixel(x / o.scale, y / o.scale), 3, sheet.pixel(x0 + x, y0 + y));
    }
    return sheet;
}

}  // namespace fl::core
