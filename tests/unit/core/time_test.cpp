#include "frameloom/core/time.h"

#include <gtest/gtest.h>

namespace fl::core {
namespace {

TEST(Rational, MakeReducesAndNormalisesSign) {
    EXPECT_EQ(Rational::make(4, -8), (Rational{-1, 2}));
    EXPECT_EQ(Rational::make(60000, 2002), (Rational{30000, 1001}));
    EXPECT_EQ(to_string(Rational{30000, 1001}), "30000/1001");
    EXPECT_EQ(to_string(Rational{24, 1}), "24");
}

TEST(ParseFrameRate, NtscDecimalsBecomeExactRationals) {
    EXPECT_EQ(*parse_frame_rate("29.97"), (Rational{30000, 1001}));
    EXPECT_EQ(*parse_frame_rate("23.976"), (Rational{24000, 1001}));
    EXPECT_EQ(*parse_frame_rate("59.94"), (Rational{60000, 1001}));
}

TEST(ParseFrameRate, IntegersFractionsAndDecimals) {
    EXPECT_EQ(*parse_frame_rate("24"), (Rational{24, 1}));
    EXPECT_EQ(*parse_frame_rate("30000/1001"), (Rational{30000, 1001}));
    EXPECT_EQ(*parse_frame_rate("50/2"), (Rational{25, 1}));
    EXPECT_EQ(*parse_frame_rate("12.5"), (Rational{25, 2}));
}

TEST(ParseFrameRate, RejectsGarbageNamingTheText) {
    for (const char* bad : {"", "abc", "0", "-24", "24/0", "0/1", "24fps", "/5", "1e9"}) {
        const auto r = parse_frame_rate(bad);
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_NE(r.message().find(std::string("'") + bad + "'"), std::string::npos) << r.message();
    }
}

TEST(Rescale, ExactAndFloored) {
    EXPECT_EQ(rescale_frames(30, Rational{30, 1}, Rational{24, 1}), 24);
    EXPECT_EQ(rescale_frames(1, Rational{24, 1}, Rational{8, 1}), 0);    // 1/3 frame floors to 0
    EXPECT_EQ(rescale_frames(-1, Rational{24, 1}, Rational{8, 1}), -1);  // floor, not truncation
    // 1001 frames at 29.97 last 33.4 s = 1002.001 frames at 30.
    EXPECT_EQ(rescale_frames(1001, Rational{30000, 1001}, Rational{30, 1}), 1002);
    // Large counts do not overflow (products need more than 64 bits).
    EXPECT_EQ(rescale_frames(int64_t{1} << 40, Rational{30000, 1001}, Rational{30000, 1001}),
              int64_t{1} << 40);
    const FrameTime t{48, Rational{24, 1}};
    EXPECT_EQ(t.rescaled(Rational{8, 1}).frames, 16);
    EXPECT_EQ(t.rescaled(Rational{8, 1}).rate, (Rational{8, 1}));
    EXPECT_DOUBLE_EQ(t.seconds(), 2.0);
}

TEST(FrameTimeTest, EqualityComparesInstants) {
    EXPECT_EQ((FrameTime{24, Rational{24, 1}}), (FrameTime{8, Rational{8, 1}}));
    EXPECT_FALSE((FrameTime{25, Rational{24, 1}}) == (FrameTime{8, Rational{8, 1}}));
}

TEST(FrameTimeTest, Timecode) {
    EXPECT_EQ((FrameTime{0, Rational{24, 1}}).timecode(), "00:00:00:00");
    EXPECT_EQ((FrameTime{3661 * 24 + 1, Rational{24, 1}}).timecode(), "01:01:01:01");
    EXPECT_EQ((FrameTime{30, Rational{30000, 1001}}).timecode(), "00:00:01:00");  // counted at 30
    EXPECT_EQ((FrameTime{29, Rational{30000, 1001}}).timecode(), "00:00:00:29");
    EXPECT_EQ((FrameTime{-25, Rational{24, 1}}).timecode(), "-00:00:01:01");
}

TEST(FramesForSeconds, RoundsToNearest) {
    EXPECT_EQ(frames_for_seconds(1.0, Rational{30000, 1001}), 30);
    EXPECT_EQ(frames_for_seconds(2.0, Rational{24, 1}), 48);
    EXPECT_EQ(frames_for_seconds(0.03, Rational{24, 1}), 1);
}

}  // namespace
}  // namespace fl::core
