// Audio decode, WAV writing and the music synthesiser.
#include "frameloom/media/audio.h"

#include <gtest/gtest.h>

#include <cmath>

#include "media_fixture.h"

namespace fl::media {
namespace {

using testing::MediaTest;
using testing::TempDir;

TEST_F(MediaTest, SynthesisedMusicIsDeterministicAudibleAndSeeded) {
    MusicOptions o;
    o.seconds = 2.0;
    o.seed = 7;
    const core::Audio a = synthesize_music(o);
    EXPECT_EQ(a.channels, 2);
    EXPECT_EQ(a.frame_count(), 96000);
    EXPECT_EQ(a.samples, synthesize_music(o).samples);
    o.seed = 8;
    EXPECT_NE(a.samples, synthesize_music(o).samples);
    float peak = 0;
    double sum = 0;
    for (float v : a.samples) {
        peak = std::max(peak, std::abs(v));
        sum += static_cast<double>(v) * v;
    }
    EXPECT_LE(peak, 1.0f);
    EXPECT_GT(std::sqrt(sum / static_cast<double>(a.samples.size())), 0.02);  // not silence
    EXPECT_NEAR(a.samples[0], 0.0f, 1e-6);  // faded in
}

TEST_F(MediaTest, WavRoundTripsThroughDecodeAudioWithResampling) {
    TempDir dir("fl-audio");
    MusicOptions o;
    o.seconds = 1.5;
    o.sample_rate = 44100;
    const core::Audio music = synthesize_music(o);
    ASSERT_TRUE(write_wav(music, dir / "m.wav").ok());
    AudioDecodeOptions d;
    d.sample_rate = 44100;
    auto same = decode_audio(dir / "m.wav", d);
    ASSERT_TRUE(same.ok()) << same.message();
    ASSERT_EQ(same->frame_count(), music.frame_count());
    for (size_t i = 0; i < music.samples.size(); i += 997)
        EXPECT_NEAR(same->samples[i], music.samples[i], 1.0 / 16000) << i;
    d.sample_rate = 48000;
    d.channels = 1;
    auto resampled = decode_audio(dir / "m.wav", d);
    ASSERT_TRUE(resampled.ok()) << resampled.message();
    EXPECT_EQ(resampled->channels, 1);
    EXPECT_NEAR(resampled->duration_seconds(), 1.5, 0.002);
}

TEST_F(MediaTest, ProbeAudioSecondsReadsTheLengthWithoutDecoding) {
    TempDir dir("fl-audio");
    MusicOptions o;
    o.seconds = 2.25;
    ASSERT_TRUE(write_wav(synthesize_music(o), dir / "m.wav").ok());
    auto seconds = probe_audio_seconds(dir / "m.wav");
    ASSERT_TRUE(seconds.ok()) << seconds.message();
    EXPECT_NEAR(*seconds, 2.25, 1e-6);
    std::ofstream(dir / "junk.wav") << "junk";
    EXPECT_FALSE(probe_audio_seconds(dir / "junk.wav").ok());
    EXPECT_FALSE(probe_audio_seconds(dir / "none.wav").ok());
}

TEST_F(MediaTest, DecodeAudioErrorsNameTheFile) {
    TempDir dir("fl-audio");
    auto missing = decode_audio(dir / "none.wav");
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.message().find("none.wav"), std::string::npos);
    std::ofstream(dir / "junk.wav") << "junk";
    auto junk = decode_audio(dir / "junk.wav");
    ASSERT_FALSE(junk.ok());
    EXPECT_NE(junk.message().find("junk.wav"), std::string::npos) << junk.message();
}

}  // namespace
}  // namespace fl::media
