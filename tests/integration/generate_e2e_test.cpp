// End to end on CPU: the default model generates a short clip, media encodes it, decodes it back.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "frameloom/core/atomic_file.h"
#include "frameloom/core/shapes_world.h"
#include "frameloom/inference/generator.h"
#include "frameloom/inference/model_store.h"
#include "frameloom/media/decode.h"
#include "frameloom/media/encode.h"
#include "frameloom/media/probe.h"

namespace fs = std::filesystem;
using namespace fl;

namespace {

inference::ModelStore source_store() { return inference::ModelStore({FL_SOURCE_MODELS_DIR}); }

core::GenerationParams small_params(const inference::ModelCard& card) {
    core::GenerationParams p = inference::default_params(card);
    p.prompt = "a red circle moving left on a black background";
    p.seed = 7;
    p.steps = 3;
    p.frames = 8;  // two DiT tokens of 4 frames
    p.width = 64;
    p.height = 48;
    p.fps = core::FrameRate{12, 1};
    return p;
}

class GenerateE2E : public ::testing::Test {
protected:
    void SetUp() override {
        auto card = source_store().find("default");
        ASSERT_TRUE(card.ok()) << card.message();
        card_ = *card;
        inference::DevicePolicy cpu;
        cpu.device = inference::DeviceKind::CPU;
        auto generator = inference::Generator::load(card_, cpu);
        ASSERT_TRUE(generator.ok()) << generator.message();
        generator_ = std::move(*generator);
        dir_ = fs::temp_directory_path() / ("fl-e2e-" + std::to_string(::getpid()));
        fs::create_directories(dir_);
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    inference::ModelCard card_;
    std::unique_ptr<inference::Generator> generator_;
    fs::path dir_;
};

TEST_F(GenerateE2E, GeneratesEncodesAndDecodesBack) {
    inference::GenerateRequest request;
    request.params = small_params(card_);
    int64_t last_done = 0, last_total = 0;
    request.progress = [&](int64_t done, int64_t total, const std::string&) {
        EXPECT_GE(done, last_done);
        last_done = done;
        last_total = total;
    };
    inference::GenerateStats stats;
    auto video = generator_->generate(request, &stats);
    ASSERT_TRUE(video.ok()) << video.message();
    EXPECT_EQ(last_done, last_total);
    EXPECT_EQ(last_total, request.params.steps + 2);
    ASSERT_EQ(video->frame_count(), 8);
    EXPECT_EQ(video->width(), 64);
    EXPECT_EQ(video->height(), 48);
    EXPECT_GT(stats.seconds_per_step, 0.0);

    const fs::path out = dir_ / "shot.mp4";
    auto written = media::encode_mp4(*video, out);
    ASSERT_TRUE(written.ok()) << written.message();

    auto info = media::probe(out);
    ASSERT_TRUE(info.ok()) << info.message();
    EXPECT_EQ(info->video_codec, "h264");
    EXPECT_EQ(info->pixel_format, "yuv420p");
    EXPECT_EQ(info->width, 64);
    EXPECT_EQ(info->height, 48);
    EXPECT_EQ(info->fps, (core::FrameRate{12, 1}));
    EXPECT_EQ(info->frame_count, 8);

    auto decoded = media::decode_video(out);
    ASSERT_TRUE(decoded.ok()) << decoded.message();
    ASSERT_EQ(decoded->frame_count(), 8);
    EXPECT_EQ(decoded->width(), 64);
    EXPECT_EQ(decoded->height(), 48);
    EXPECT_EQ(decoded->fps, (core::FrameRate{12, 1}));
    // The decoded frames are the generated ones up to compression error. The untrained model's frames are
    // close to per-pixel noise, which 4:2:0 chroma cannot keep, so compare each frame's mean colour.
    for (size_t f = 0; f < 8; ++f) {
        double mean_gen[3] = {0, 0, 0}, mean_dec[3] = {0, 0, 0};
        const size_t n = video->frames[f].rgb.size();
        for (size_t i = 0; i < n; ++i) {
            mean_gen[i % 3] += video->frames[f].rgb[i];
            mean_dec[i % 3] += decoded->frames[f].rgb[i];
        }
        for (int c = 0; c < 3; ++c)
            EXPECT_NEAR(mean_gen[c] / (n / 3.0), mean_dec[c] / (n / 3.0), 4.0) << "frame " << f;
    }
}

TEST_F(GenerateE2E, SameSeedGivesBitIdenticalFramesAndOtherSeedDiffers) {
    inference::GenerateRequest request;
    request.params = small_params(card_);
    auto a = generator_->generate(request);
    auto b = generator_->generate(request);
    ASSERT_TRUE(a.ok() && b.ok());
    for (size_t f = 0; f < a->frames.size(); ++f)
        EXPECT_EQ(a->frames[f].rgb, b->frames[f].rgb) << "frame " << f;
    request.params.seed = 8;
    auto c = generator_->generate(request);
    ASSERT_TRUE(c.ok());
    EXPECT_NE(a->frames[0].rgb, c->frames[0].rgb);
}

TEST_F(GenerateE2E, DefaultModelStaysOnEulerAndEachSamplerIsDeterministic) {
    EXPECT_EQ(card_.defaults.sampler, "euler");  // its card has no sampler field
    EXPECT_EQ(inference::default_params(card_).sampler, "euler");
    std::map<std::string, std::vector<uint8_t>> first_frames;
    for (const char* sampler : {"euler", "unipc", "dpm++"}) {
        inference::GenerateRequest request;
        request.params = small_params(card_);
        request.params.sampler = sampler;
        int last_done = 0;
        request.progress = [&](int64_t done, int64_t, const std::string&) {
            last_done = static_cast<int>(done);
        };
        auto a = generator_->generate(request);
        ASSERT_TRUE(a.ok()) << sampler << ": " << a.message();
        EXPECT_EQ(last_done, request.params.steps + 2) << sampler;
        auto b = generator_->generate(request);
        ASSERT_TRUE(b.ok());
        EXPECT_EQ(a->frames[0].rgb, b->frames[0].rgb) << sampler;
        first_frames[sampler] = a->frames[0].rgb;
    }
    EXPECT_NE(first_frames["euler"], first_frames["unipc"]);
    EXPECT_NE(first_frames["unipc"], first_frames["dpm++"]);
    inference::GenerateRequest bad;
    bad.params = small_params(card_);
    bad.params.sampler = "ddim";
    auto r = generator_->generate(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find("sampler 'ddim'"), std::string::npos) << r.message();
}

TEST_F(GenerateE2E, CancelStopsBeforeTheNextStep) {
    inference::GenerateRequest request;
    request.params = small_params(card_);
    request.params.steps = 50;
    int progress_calls = 0;
    request.progress = [&](int64_t, int64_t, const std::string&) { ++progress_calls; };
    request.cancel = [&] { return progress_calls >= 3; };
    auto video = generator_->generate(request);
    ASSERT_FALSE(video.ok());
    EXPECT_TRUE(core::is_cancelled_message(video.message())) << video.message();
    EXPECT_LT(progress_calls, 6);
}

TEST_F(GenerateE2E, BadRequestsAreOneLineErrors) {
    inference::GenerateRequest request;
    request.params = small_params(card_);
    request.params.width = 72;  // not divisible by 16
    auto bad_size = generator_->generate(request);
    ASSERT_FALSE(bad_size.ok());
    EXPECT_NE(bad_size.message().find("divisible by 16"), std::string::npos) << bad_size.message();

    request.params = small_params(card_);
    request.params.frames = 0;
    auto zero = generator_->generate(request);
    ASSERT_FALSE(zero.ok());
    EXPECT_NE(zero.message().find("frames"), std::string::npos);
    request.params.frames = -4;
    EXPECT_FALSE(generator_->generate(request).ok());

    request.params = small_params(card_);
    request.params.conditioning.first_frame = "x.png";  // named but never read
    auto unread = generator_->generate(request);
    ASSERT_FALSE(unread.ok());
    EXPECT_NE(unread.message().find("load_conditioning"), std::string::npos) << unread.message();
    for (const auto* m : {&bad_size, &zero, &unread}) EXPECT_EQ(m->message().find('\n'), std::string::npos);
}

core::Video rendered(int frames, int width = 64, int height = 48) {
    core::shapes::Scene s = core::shapes::scene_of(5);
    s.size = 0.3;
    s.start_x = 0.3;
    s.travel = 0.4;
    return core::shapes::render(s, width, height, frames, {12, 1});
}

TEST_F(GenerateE2E, FrameCountsThatAreNotWholeTokensAreSampledPaddedAndCut) {
    for (int frames : {1, 5, 9}) {
        inference::GenerateRequest request;
        request.params = small_params(card_);
        request.params.frames = frames;
        request.params.steps = 1;
        auto video = generator_->generate(request);
        ASSERT_TRUE(video.ok()) << video.message();
        EXPECT_EQ(video->frame_count(), frames);
    }
}

TEST_F(GenerateE2E, GivenFirstAndLastFramesComeOutExactly) {
    const core::Video truth = rendered(8);
    inference::GenerateRequest request;
    request.params = small_params(card_);
    request.params.conditioning.first_frame = request.params.conditioning.last_frame = "(in memory)";
    request.media.first_frame = truth.frames.front();
    request.media.last_frame = truth.frames.back();
    auto video = generator_->generate(request);
    ASSERT_TRUE(video.ok()) << video.message();
    ASSERT_EQ(video->frame_count(), 8);
    EXPECT_EQ(video->frames.front().rgb, truth.frames.front().rgb);
    EXPECT_EQ(video->frames.back().rgb, truth.frames.back().rgb);
    // The given frames condition the rest: the middle differs from the same seed without them.
    inference::GenerateRequest plain;
    plain.params = small_params(card_);
    auto free_run = generator_->generate(plain);
    ASSERT_TRUE(free_run.ok());
    EXPECT_NE(video->frames[3].rgb, free_run->frames[3].rgb);
}

TEST_F(GenerateE2E, ExtensionGivesTheContinuationOrSourcePlusContinuation) {
    const core::Video source = rendered(10, 32, 32);  // another size: resized to the request's
    inference::GenerateRequest request;
    request.params = small_params(card_);
    request.params.prompt.clear();  // extension may go on without words
    request.params.conditioning.extend = "(in memory)";
    request.media.extend_source = source;
    auto alone = generator_->generate(request);
    ASSERT_TRUE(alone.ok()) << alone.message();
    EXPECT_EQ(alone->frame_count(), 8 - 4);  // the model is given the source's last 4 frames
    EXPECT_EQ(alone->width(), 64);
    EXPECT_EQ(alone->height(), 48);

    request.params.conditioning.keep_source = request.media.keep_source = true;
    auto whole = generator_->generate(request);
    ASSERT_TRUE(whole.ok()) << whole.message();
    ASSERT_EQ(whole->frame_count(), 10 + 4);
    for (int i = 0; i < 4; ++i)
        EXPECT_EQ(whole->frames[static_cast<size_t>(10 + i)].rgb, alone->frames[static_cast<size_t>(i)].rgb);
}

TEST_F(GenerateE2E, ExtensionByALengthChainsPasses) {
    const core::Video source = rendered(10, 64, 48);
    inference::GenerateRequest request;
    request.params = small_params(card_);  // 8 frames a pass: 4 given, 4 new
    request.params.prompt.clear();
    request.params.conditioning.extend = "(in memory)";
    request.media.extend_source = source;
    request.media.extend_frames = request.params.conditioning.extend_frames = 11;  // 3 passes, cut to 11
    std::vector<std::pair<int64_t, int64_t>> progress;
    request.progress = [&](int64_t done, int64_t total, const std::string&) {
        progress.emplace_back(done, total);
    };
    auto chain = generator_->generate(request);
    ASSERT_TRUE(chain.ok()) << chain.message();
    EXPECT_EQ(chain->frame_count(), 11);
    ASSERT_FALSE(progress.empty());
    EXPECT_EQ(progress.back().first, progress.back().second);  // one bar over every pass
    EXPECT_EQ(progress.back().second, 3 * (request.params.steps + 2));

    // The first pass is the plain one-pass extension (same seed); keep_source puts the source first.
    inference::GenerateRequest one = request;
    one.progress = {};
    one.media.extend_frames = one.params.conditioning.extend_frames = 0;
    auto single = generator_->generate(one);
    ASSERT_TRUE(single.ok());
    for (int i = 0; i < 4; ++i)
        EXPECT_EQ(chain->frames[static_cast<size_t>(i)].rgb, single->frames[static_cast<size_t>(i)].rgb);
    request.progress = {};
    request.media.keep_source = request.params.conditioning.keep_source = true;
    auto whole = generator_->generate(request);
    ASSERT_TRUE(whole.ok());
    ASSERT_EQ(whole->frame_count(), 10 + 11);
    EXPECT_EQ(whole->frames[12].rgb, chain->frames[2].rgb);
}

TEST_F(GenerateE2E, ReferencesConditionButAreNotInTheOutput) {
    inference::GenerateRequest request;
    request.params = small_params(card_);
    request.params.prompt = "the object moving right";
    request.params.conditioning.references = {"(in memory)"};
    request.media.references = {rendered(1).frames.front()};
    auto video = generator_->generate(request);
    ASSERT_TRUE(video.ok()) << video.message();
    EXPECT_EQ(video->frame_count(), 8);
    request.params.conditioning.references.assign(5, "(in memory)");
    request.media.references.assign(5, rendered(1).frames.front());
    auto too_many = generator_->generate(request);
    ASSERT_FALSE(too_many.ok());
    EXPECT_NE(too_many.message().find("at most 4"), std::string::npos) << too_many.message();
}

// A copy of the default model in a temp store, to damage.
fs::path copy_default_model(const fs::path& dir) {
    auto card = source_store().find("default");
    EXPECT_TRUE(card.ok());
    fs::create_directories(dir);
    fs::copy_file(card->card_path, dir / card->card_path.filename());
    for (const auto& [role, rel] : card->files) {
        fs::create_directories((dir / rel).parent_path());
        fs::copy_file(card->file(role), dir / rel);
    }
    return dir / card->card_path.filename();
}

TEST(ModelFiles, MissingTruncatedAndUnknownModelsAreClearErrors) {
    const fs::path dir = fs::temp_directory_path() / ("fl-models-" + std::to_string(::getpid()));
    copy_default_model(dir);
    inference::ModelStore store({dir});

    EXPECT_FALSE(store.find("no-such-model").ok());
    EXPECT_NE(store.find("no-such-model").message().find("unknown model"), std::string::npos);

    auto card = store.find("default");
    ASSERT_TRUE(card.ok()) << card.message();
    const fs::path dit = card->file("dit");

    // Truncated DiT weights.
    fs::resize_file(dit, fs::file_size(dit) / 2);
    auto truncated = inference::Generator::load(*card, {});
    ASSERT_FALSE(truncated.ok());
    EXPECT_NE(truncated.message().find("truncated"), std::string::npos) << truncated.message();

    // Missing DiT weights.
    fs::remove(dit);
    auto missing = inference::Generator::load(*card, {});
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.message().find("missing"), std::string::npos) << missing.message();
    EXPECT_EQ(missing.message().find('\n'), std::string::npos);
    fs::remove_all(dir);
}

}  // namespace
