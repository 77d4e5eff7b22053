#include "frameloom/media/encode.h"

#include "frameloom/core/cancel.h"
#include "frameloom/media/probe.h"
#include "unit/media/media_fixture.h"

namespace fl::media {
namespace {

using testing::TempDir;

class EncodeTest : public testing::MediaTest {
protected:
    TempDir dir;
    core::Video clip = testing::gradient_video(64, 48, 17, {8, 1});
};

TEST_F(EncodeTest, WritesOnlyTheTarget) {
    int calls = 0;
    int64_t last_done = 0, last_total = 0;
    EncodeOptions options;
    options.progress = [&](int64_t done, int64_t total, const std::string&) {
        ++calls;
        last_done = done;
        last_total = total;
    };
    ASSERT_TRUE(encode_mp4(clip, dir / "out.mp4", options).ok());
    EXPECT_EQ(dir.entries(), std::vector<std::string>{"out.mp4"});
    EXPECT_EQ(calls, 17);
    EXPECT_EQ(last_done, 17);
    EXPECT_EQ(last_total, 17);
}

TEST_F(EncodeTest, IndexPrecedesMediaData) {
    const auto path = dir / "fast.mp4";
    ASSERT_TRUE(encode_mp4(clip, path).ok());
    const std::string bytes = testing::read_bytes(path);
    const auto moov = bytes.find("moov");
    const auto mdat = bytes.find("mdat");
    ASSERT_NE(moov, std::string::npos);
    ASSERT_NE(mdat, std::string::npos);
    EXPECT_LT(moov, mdat);
}

TEST_F(EncodeTest, SameFramesGiveSameBytes) {
    ASSERT_TRUE(encode_mp4(clip, dir / "a.mp4").ok());
    ASSERT_TRUE(encode_mp4(clip, dir / "b.mp4").ok());
    EXPECT_EQ(testing::read_bytes(dir / "a.mp4"), testing::read_bytes(dir / "b.mp4"));
}

TEST_F(EncodeTest, TagsBt709LimitedRange) {
    const auto path = dir / "tags.mp4";
    ASSERT_TRUE(encode_mp4(clip, path).ok());
    // The tags travel in the H.264 VUI; probe must still read yuv420p (not the full-range yuvj420p).
    auto info = probe(path);
    ASSERT_TRUE(info.ok()) << info.message();
    EXPECT_EQ(info->pixel_format, "yuv420p");
}

TEST_F(EncodeTest, RejectsAnEmptyVideo) {
    core::Video empty;
    auto r = encode_mp4(empty, dir / "out.mp4");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.message(), "video has no frames");
    EXPECT_TRUE(dir.entries().empty());
}

TEST_F(EncodeTest, RejectsOddSizes) {
    auto r = encode_mp4(testing::gradient_video(65, 48, 3, {8, 1}), dir / "out.mp4");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.message().rfind("H.264 yuv420p needs even sizes", 0), 0u) << r.message();
    EXPECT_NE(r.message().find("65x48"), std::string::npos) << r.message();
    EXPECT_TRUE(dir.entries().empty());
}

TEST_F(EncodeTest, RejectsMismatchedFrameSizes) {
    clip.frames[3] = core::Frame(32, 32);
    auto r = encode_mp4(clip, dir / "out.mp4");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find("frame 3 is 32x32 but frame 0 is 64x48"), std::string::npos) << r.message();
    EXPECT_EQ(r.message().find('\n'), std::string::npos);
    EXPECT_TRUE(dir.entries().empty());
}

TEST_F(EncodeTest, RejectsAnUnknownPreset) {
    EncodeOptions options;
    options.preset = "warp-speed";
    auto r = encode_mp4(clip, dir / "out.mp4", options);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find("warp-speed"), std::string::npos) << r.message();
    EXPECT_TRUE(dir.entries().empty());
}

TEST_F(EncodeTest, MissingFolderLeavesNothingBehind) {
    const auto target = dir / "no" / "such" / "out.mp4";
    auto r = encode_mp4(clip, target);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.message().rfind("cannot write " + target.string(), 0), 0u) << r.message();
    EXPECT_TRUE(dir.entries().empty());
}

TEST_F(EncodeTest, TargetThatIsAFolderIsRefused) {
    std::filesystem::create_directory(dir / "taken.mp4");
    auto r = encode_mp4(clip, dir / "taken.mp4");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.message().rfind("cannot write ", 0), 0u) << r.message();
    EXPECT_TRUE(std::filesystem::is_directory(dir / "taken.mp4"));
    EXPECT_EQ(dir.entries(), std::vector<std::string>{"taken.mp4"});
}

TEST_F(EncodeTest, CancelMidEncodeLeavesNoTargetAndNoTempFile) {
    int frames_done = 0;
    EncodeOptions options;
    options.progress = [&](int64_t done, int64_t, const std::string&) { frames_done = static_cast<int>(done); };
    options.cancel = [&] { return frames_done >= 8; };
    auto r = encode_mp4(clip, dir / "out.mp4", options);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(core::is_cancelled_message(r.message()));
    EXPECT_EQ(frames_done, 8);
    EXPECT_TRUE(dir.entries().empty());
}

TEST_F(EncodeTest, ExistingTargetSurvivesAFailedEncode) {
    const auto target = dir / "keep.mp4";
    ASSERT_TRUE(encode_mp4(clip, target).ok());
    const std::string before = testing::read_bytes(target);
    EncodeOptions options;
    options.cancel = [] { return true; };
    ASSERT_FALSE(encode_mp4(testing::gradient_video(32, 32, 4, {8, 1}), target, options).ok());
    EXPECT_EQ(testing::read_bytes(target), before);
    EXPECT_EQ(dir.entries(), std::vector<std::string>{"keep.mp4"});
}

TEST_F(EncodeTest, PngIntoAMissingFolderFails) {
    const auto target = dir / "missing" / "thumb.png";
    auto r = write_png(clip.frames[0], target);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.message().rfind("cannot write " + target.string(), 0), 0u) << r.message();
    EXPECT_TRUE(dir.entries().empty());
}

}  // namespace
}  // namespace fl::media
