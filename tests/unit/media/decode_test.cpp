#include "frameloom/media/decode.h"

#include <algorithm>
#include <fstream>

#include "frameloom/core/cancel.h"
#include "frameloom/core/shot.h"
#include "frameloom/media/conditioning.h"
#include "frameloom/media/encode.h"
#include "unit/media/media_fixture.h"

namespace fl::media {
namespace {

using testing::TempDir;

/// One 8 fps and one 30000/1001 clip, encoded once for the suite.
class DecodeTest : public testing::MediaTest {
protected:
    static void SetUpTestSuite() {
        MediaTest::SetUpTestSuite();
        dir_ = new TempDir;
        source_ = new core::Video(testing::gradient_video(64, 48, 17, {8, 1}));
        ASSERT_TRUE(encode_mp4(*source_, clip_8fps()).ok());
        core::Video ntsc = *source_;
        ntsc.fps = {30000, 1001};
        ASSERT_TRUE(encode_mp4(ntsc, clip_ntsc()).ok());
    }
    static void TearDownTestSuite() {
        delete source_;
        delete dir_;
    }
    static std::filesystem::path clip_8fps() { return *dir_ / "clip8.mp4"; }
    static std::filesystem::path clip_ntsc() { return *dir_ / "ntsc.mp4"; }
    static const core::Video& source() { return *source_; }

    /// Seeks to each index in `order` and checks the frame equals the sequential decode's.
    static void expect_seeks_exact(const std::filesystem::path& path, std::initializer_list<int64_t> order) {
        auto all = decode_video(path);
        ASSERT_TRUE(all.ok()) << all.message();
        auto reader = VideoReader::open(path);
        ASSERT_TRUE(reader.ok()) << reader.message();
        // Read to the end first, so every seek below goes back through the timestamp path.
        while ((*reader)->read_next().ok()) {
        }
        ASSERT_EQ((*reader)->position(), all->frame_count());
        for (const int64_t index : order) {
            ASSERT_TRUE((*reader)->seek(index).ok()) << index;
            EXPECT_EQ((*reader)->position(), index);
            auto frame = (*reader)->read_next();
            ASSERT_TRUE(frame.ok()) << frame.message();
            EXPECT_EQ(frame->rgb, all->frames[static_cast<size_t>(index)].rgb) << "seek to " << index;
            EXPECT_EQ((*reader)->position(), index + 1);
        }
    }

private:
    static inline TempDir* dir_ = nullptr;
    static inline core::Video* source_ = nullptr;
};

TEST_F(DecodeTest, RoundTripIsCloseToTheSource) {
    for (const int crf : {0, 18}) {
        TempDir dir;
        const auto path = dir / "clip.mp4";
        EncodeOptions options;
        options.crf = crf;
        ASSERT_TRUE(encode_mp4(source(), path, options).ok());
        auto video = decode_video(path);
        ASSERT_TRUE(video.ok()) << video.message();
        ASSERT_EQ(video->frame_count(), 17);
        EXPECT_EQ(video->fps, (core::FrameRate{8, 1}));
        for (size_t i = 0; i < video->frames.size(); ++i) {
            ASSERT_EQ(video->frames[i].width, 64);
            ASSERT_EQ(video->frames[i].height, 48);
            EXPECT_LT(testing::mean_abs_error(video->frames[i], source().frames[i]), 3.0) << "crf " << crf << " frame " << i;
        }
    }
}

TEST_F(DecodeTest, NtscClipDecodesEveryFrameInOrder) {
    auto video = decode_video(clip_ntsc());
    ASSERT_TRUE(video.ok()) << video.message();
    ASSERT_EQ(video->frame_count(), 17);
    EXPECT_EQ(video->fps, (core::FrameRate{30000, 1001}));
    for (size_t i = 0; i < video->frames.size(); ++i)
        EXPECT_LT(testing::mean_abs_error(video->frames[i], source().frames[i]), 3.0) << "frame " << i;
}

TEST_F(DecodeTest, MaxFramesAndTargetSize) {
    DecodeOptions options;
    options.max_frames = 5;
    options.width = 32;
    options.height = 24;
    auto video = decode_video(clip_8fps(), options);
    ASSERT_TRUE(video.ok()) << video.message();
    ASSERT_EQ(video->frame_count(), 5);
    EXPECT_EQ(video->width(), 32);
    EXPECT_EQ(video->height(), 24);
    EXPECT_EQ(video->frames[4].rgb.size(), 32u * 24u * 3u);
}

TEST_F(DecodeTest, CancelStopsDecoding) {
    int calls = 0;
    DecodeOptions options;
    options.cancel = [&] { return ++calls > 3; };
    auto video = decode_video(clip_8fps(), options);
    ASSERT_FALSE(video.ok());
    EXPECT_TRUE(core::is_cancelled_message(video.message()));
}

TEST_F(DecodeTest, SeekIsFrameExact) {
    expect_seeks_exact(clip_8fps(), {9, 2, 16, 0, 12, 13, 9});
}

TEST_F(DecodeTest, SeekIsFrameExactAtNtscRate) {
    expect_seeks_exact(clip_ntsc(), {9, 16, 1, 8, 0});
}

TEST_F(DecodeTest, ReaderReadsToTheEndThenStops) {
    auto reader = VideoReader::open(clip_8fps());
    ASSERT_TRUE(reader.ok()) << reader.message();
    EXPECT_EQ((*reader)->info().frame_count, 17);
    for (int i = 0; i < 17; ++i) ASSERT_TRUE((*reader)->read_next().ok()) << i;
    EXPECT_EQ((*reader)->position(), 17);
    auto end = (*reader)->read_next();
    ASSERT_FALSE(end.ok());
    EXPECT_EQ(end.message(), "end of stream");
    // After the end, seeking back still works.
    ASSERT_TRUE((*reader)->seek(9).ok());
    EXPECT_TRUE((*reader)->read_next().ok());
    auto past = (*reader)->seek(17);
    ASSERT_FALSE(past.ok());
    EXPECT_NE(past.message().find("17 frames"), std::string::npos) << past.message();
}

TEST_F(DecodeTest, PngRoundTripIsExact) {
    TempDir dir;
    core::Frame frame(33, 17);  // odd sizes are fine for PNG
    for (size_t i = 0; i < frame.rgb.size(); ++i) frame.rgb[i] = static_cast<uint8_t>((i * 37) ^ (i >> 3));
    const auto path = dir / "frame.png";
    ASSERT_TRUE(write_png(frame, path).ok());
    EXPECT_EQ(dir.entries(), std::vector<std::string>{"frame.png"});
    auto back = decode_image(path);
    ASSERT_TRUE(back.ok()) << back.message();
    EXPECT_EQ(back->width, 33);
    EXPECT_EQ(back->height, 17);
    EXPECT_EQ(back->rgb, frame.rgb);

    auto as_video = decode_video(path);  // a still decodes as a one-frame video
    ASSERT_TRUE(as_video.ok()) << as_video.message();
    ASSERT_EQ(as_video->frame_count(), 1);
    EXPECT_EQ(as_video->frames[0].rgb, frame.rgb);
}

TEST_F(DecodeTest, ConditioningReadsAVideoAndItsMaskAsImageOrClip) {
    TempDir dir;
    core::Frame half(source().frames[0].width, source().frames[0].height);
    for (int y = 0; y < half.height; ++y)
        for (int x = half.width / 2; x < half.width; ++x) std::fill_n(half.pixel(x, y), 3, 255);
    ASSERT_TRUE(write_png(half, dir / "mask.png").ok());
    core::Conditioning c;
    c.video = clip_8fps().string();
    c.mask = "mask.png";  // relative to the base folder, as a project's media
    auto media = load_conditioning(c, dir.path());
    ASSERT_TRUE(media.ok()) << media.message();
    EXPECT_EQ(media->video.frame_count(), source().frame_count());
    ASSERT_EQ(media->mask.size(), 1u);  // an image: one mask for every frame
    EXPECT_EQ(media->mask[0].rgb, half.rgb);
    EXPECT_FALSE(media->empty());
    c.mask = clip_8fps().string();  // a clip: frame by frame
    media = load_conditioning(c, dir.path());
    ASSERT_TRUE(media.ok()) << media.message();
    EXPECT_EQ(static_cast<int64_t>(media->mask.size()), source().frame_count());
    c.mask = "absent.png";
    media = load_conditioning(c, dir.path());
    ASSERT_FALSE(media.ok());
    EXPECT_EQ(media.message().rfind("--mask absent.png: ", 0), 0u) << media.message();
}

TEST_F(DecodeTest, DecodeImageOfAVideoGivesItsFirstFrame) {
    auto first = decode_image(clip_8fps());
    ASSERT_TRUE(first.ok()) << first.message();
    EXPECT_LT(testing::mean_abs_error(*first, source().frames[0]), 3.0);
}

TEST_F(DecodeTest, DecodeErrorsAreOneLine) {
    TempDir dir;
    const auto text = dir / "fake.mp4";
    std::ofstream(text) << "not a movie";
    auto video = decode_video(text);
    ASSERT_FALSE(video.ok());
    EXPECT_EQ(video.message().rfind("not a video or image: ", 0), 0u) << video.message();
    auto missing = VideoReader::open(dir / "missing.mp4");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.message(), "file not found: " + (dir / "missing.mp4").string());
}

}  // namespace
}  // namespace fl::media
