// Contact sheets: layout, sampling, enlargement and errors.
#include "frameloom/core/contact_sheet.h"

#include <gtest/gtest.h>

namespace fl::core {
namespace {

/// `n` frames of w×h, frame i filled with grey level 10·(i + 1).
Video ramp(int n, int w, int h) {
    Video v;
    for (int i = 0; i < n; ++i) {
        Frame f(w, h);
        std::fill(f.rgb.begin(), f.rgb.end(), static_cast<uint8_t>(10 * (i + 1)));
        v.frames.push_back(f);
    }
    return v;
}

TEST(ContactSheet, LaysFramesOutInRowsWithGaps) {
    auto sheet = contact_sheet(ramp(5, 4, 3), {.columns = 2, .every = 1, .scale = 1, .gap = 1});
    ASSERT_TRUE(sheet.ok()) << sheet.message();
    EXPECT_EQ(sheet->width, 2 * 4 + 1);
    EXPECT_EQ(sheet->height, 3 * 3 + 2);
    EXPECT_EQ(sheet->pixel(0, 0)[0], 10);   // frame 0, top left
    EXPECT_EQ(sheet->pixel(5, 0)[0], 20);   // frame 1, right of the gap
    EXPECT_EQ(sheet->pixel(4, 0)[0], 128);  // the gap
    EXPECT_EQ(sheet->pixel(0, 8)[0], 50);   // frame 4 starts row 3
    EXPECT_EQ(sheet->pixel(5, 8)[0], 128);  // nothing after the last frame
}

TEST(ContactSheet, EveryNthFrameEnlarged) {
    auto sheet = contact_sheet(ramp(16, 2, 2), {.columns = 8, .every = 4, .scale = 3, .gap = 0});
    ASSERT_TRUE(sheet.ok()) << sheet.message();
    EXPECT_EQ(sheet->width, 4 * 6);  // frames 0, 4, 8, 12 in one row (fewer frames than columns)
    EXPECT_EQ(sheet->height, 6);
    EXPECT_EQ(sheet->pixel(5, 5)[0], 10);
    EXPECT_EQ(sheet->pixel(6, 0)[0], 50);
    EXPECT_EQ(sheet->pixel(23, 5)[0], 130);
}

TEST(ContactSheet, EmptyClipsBadOptionsAndRaggedFramesAreErrors) {
    EXPECT_FALSE(contact_sheet(Video{}).ok());
    EXPECT_FALSE(contact_sheet(ramp(2, 2, 2), {.columns = 0}).ok());
    EXPECT_FALSE(contact_sheet(ramp(2, 2, 2), {.gap = -1}).ok());
    Video ragged = ramp(2, 2, 2);
    ragged.frames[1] = Frame(3, 2);
    auto r = contact_sheet(ragged);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find("frame 1"), std::string::npos) << r.message();
}

}  // namespace
}  // namespace fl::core
