#include "frameloom/media/probe.h"

#include <fstream>

#include "frameloom/media/encode.h"
#include "unit/media/media_fixture.h"

namespace fl::media {
namespace {

using testing::TempDir;

class ProbeTest : public testing::MediaTest {
protected:
    TempDir dir;
};

TEST_F(ProbeTest, ReadsBackAnEncodedClip) {
    const auto path = dir / "clip.mp4";
    ASSERT_TRUE(encode_mp4(testing::gradient_video(64, 48, 17, {8, 1}), path).ok());
    auto info = probe(path);
    ASSERT_TRUE(info.ok()) << info.message();
    EXPECT_EQ(info->path, path.string());
    EXPECT_NE(info->container.find("mp4"), std::string::npos);
    EXPECT_EQ(info->video_codec, "h264");
    EXPECT_EQ(info->pixel_format, "yuv420p");
    EXPECT_EQ(info->width, 64);
    EXPECT_EQ(info->height, 48);
    EXPECT_EQ(info->fps, (core::FrameRate{8, 1}));
    EXPECT_EQ(info->frame_count, 17);
    EXPECT_NEAR(info->duration_seconds, 17.0 / 8.0, 1e-3);
    EXPECT_FALSE(info->has_audio);
    EXPECT_FALSE(info->is_image);
}

TEST_F(ProbeTest, NtscRateIsExact) {
    const auto path = dir / "ntsc.mp4";
    ASSERT_TRUE(encode_mp4(testing::gradient_video(64, 48, 17, {30000, 1001}), path).ok());
    auto info = probe(path);
    ASSERT_TRUE(info.ok()) << info.message();
    EXPECT_EQ(info->fps, (core::FrameRate{30000, 1001}));
    EXPECT_EQ(info->frame_count, 17);
    EXPECT_NEAR(info->duration_seconds, 17 * 1001.0 / 30000.0, 1e-3);
}

TEST_F(ProbeTest, DescribeNamesTheFacts) {
    const auto path = dir / "clip.mp4";
    ASSERT_TRUE(encode_mp4(testing::gradient_video(64, 48, 5, {30000, 1001}), path).ok());
    auto info = probe(path);
    ASSERT_TRUE(info.ok()) << info.message();
    const std::string text = describe(*info);
    EXPECT_NE(text.find("h264"), std::string::npos) << text;
    EXPECT_NE(text.find("64x48"), std::string::npos) << text;
    EXPECT_NE(text.find("30000/1001"), std::string::npos) << text;
    EXPECT_NE(text.find("frames:     5"), std::string::npos) << text;
}

TEST_F(ProbeTest, PngIsAStillImage) {
    const auto path = dir / "still.png";
    ASSERT_TRUE(write_png(testing::gradient_video(20, 10, 1, {8, 1}).frames[0], path).ok());
    auto info = probe(path);
    ASSERT_TRUE(info.ok()) << info.message();
    EXPECT_TRUE(info->is_image);
    EXPECT_EQ(info->video_codec, "png");
    EXPECT_EQ(info->width, 20);
    EXPECT_EQ(info->height, 10);
    EXPECT_EQ(info->frame_count, 1);
    EXPECT_EQ(info->fps, (core::FrameRate{0, 1}));
    EXPECT_NE(describe(*info).find("still image"), std::string::npos);
}

TEST_F(ProbeTest, TextFileRenamedMp4IsNotAVideo) {
    const auto path = dir / "notes.mp4";
    std::ofstream(path) << "these are my notes, not a film\n";
    auto info = probe(path);
    ASSERT_FALSE(info.ok());
    EXPECT_EQ(info.message().rfind("not a video or image: " + path.string() + " (", 0), 0u) << info.message();
    EXPECT_EQ(info.message().find('\n'), std::string::npos);
}

TEST_F(ProbeTest, TextFileIsNotAVideo) {
    const auto path = dir / "notes.txt";
    std::ofstream(path) << "plain text\nmore text\n";
    auto info = probe(path);
    ASSERT_FALSE(info.ok());
    EXPECT_EQ(info.message().rfind("not a video or image: ", 0), 0u) << info.message();
}

TEST_F(ProbeTest, MissingFileSaysSo) {
    const auto path = dir / "nowhere.mp4";
    auto info = probe(path);
    ASSERT_FALSE(info.ok());
    EXPECT_EQ(info.message(), "file not found: " + path.string());
}

TEST_F(ProbeTest, FolderIsNotAVideo) {
    auto info = probe(dir.path());
    ASSERT_FALSE(info.ok());
    EXPECT_EQ(info.message().rfind("not a video or image: ", 0), 0u) << info.message();
}

}  // namespace
}  // namespace fl::media
