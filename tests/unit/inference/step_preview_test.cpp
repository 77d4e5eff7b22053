// The per-request step preview: once per sampling step, one frame at the requested size, converging on
// the clip the generation returns, and without changing that clip.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "frameloom/inference/generator.h"
#include "frameloom/inference/model_store.h"

using namespace fl;

namespace {

class StepPreview : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        auto card = inference::ModelStore({FL_SOURCE_MODELS_DIR}).find("default");
        ASSERT_TRUE(card.ok()) << card.message();
        card_ = std::make_unique<inference::ModelCard>(*card);
        inference::DevicePolicy cpu;
        cpu.device = inference::DeviceKind::CPU;
        auto generator = inference::Generator::load(*card_, cpu);
        ASSERT_TRUE(generator.ok()) << generator.message();
        generator_ = std::move(generator).value();
    }
    static void TearDownTestSuite() {
        generator_.reset();
        card_.reset();
    }

    static inference::GenerateRequest small_request(const std::string& sampler) {
        inference::GenerateRequest request;
        request.params = inference::default_params(*card_);
        request.params.prompt = "a red circle moving left on a blue background";
        request.params.seed = 11;
        request.params.steps = 4;
        request.params.frames = 8;
        request.params.width = 64;
        request.params.height = 48;
        request.params.sampler = sampler;
        return request;
    }

    static std::unique_ptr<inference::ModelCard> card_;
    static std::unique_ptr<inference::Generator> generator_;
};

std::unique_ptr<inference::ModelCard> StepPreview::card_;
std::unique_ptr<inference::Generator> StepPreview::generator_;

/// Mean absolute difference of two RGB8 frames of the same size, in 8-bit levels.
double mean_abs_diff(const core::Frame& a, const core::Frame& b) {
    double sum = 0.0;
    for (size_t i = 0; i < a.rgb.size(); ++i) sum += std::abs(int(a.rgb[i]) - int(b.rgb[i]));
    return sum / static_cast<double>(a.rgb.size());
}

struct Seen {
    int step = 0;
    int steps = 0;
    core::Video preview;
};

TEST_F(StepPreview, CalledOncePerStepWithTheMiddleFrameConvergingOnTheOutput) {
    for (const char* sampler : {"euler", "unipc", "dpm++"}) {
        SCOPED_TRACE(sampler);
        inference::GenerateRequest request = small_request(sampler);
        std::vector<Seen> seen;
        request.step_preview = [&](int step, int steps, const core::Video& preview) {
            seen.push_back({step, steps, preview});
        };
        auto video = generator_->generate(request);
        ASSERT_TRUE(video.ok()) << video.message();
        ASSERT_EQ(seen.size(), 4u);
        for (size_t i = 0; i < seen.size(); ++i) {
            EXPECT_EQ(seen[i].step, static_cast<int>(i) + 1);
            EXPECT_EQ(seen[i].steps, 4);
            ASSERT_EQ(seen[i].preview.frame_count(), 1);
            EXPECT_EQ(seen[i].preview.width(), 64);
            EXPECT_EQ(seen[i].preview.height(), 48);
            EXPECT_EQ(seen[i].preview.fps, request.params.fps);
        }
        // The last estimate is the clip's middle frame, up to the solver's final update.
        const core::Frame& middle = video->frames[4];
        const double last = mean_abs_diff(seen.back().preview.frames[0], middle);
        EXPECT_LT(last, 3.0);
        EXPECT_LE(last, mean_abs_diff(seen.front().preview.frames[0], middle));
        if (std::string(sampler) == "euler") {
            EXPECT_LT(last, 0.5) << "Euler's last step lands on its estimate";
        }
    }
}

TEST_F(StepPreview, LeavesTheGeneratedClipUnchanged) {
    inference::GenerateRequest plain = small_request("euler");
    auto a = generator_->generate(plain);
    ASSERT_TRUE(a.ok()) << a.message();
    inference::GenerateRequest watched = small_request("euler");
    int calls = 0;
    watched.step_preview = [&](int, int, const core::Video&) { ++calls; };
    auto b = generator_->generate(watched);
    ASSERT_TRUE(b.ok()) << b.message();
    EXPECT_EQ(calls, 4);
    ASSERT_EQ(a->frames.size(), b->frames.size());
    for (size_t f = 0; f < a->frames.size(); ++f)
        EXPECT_EQ(a->frames[f].rgb, b->frames[f].rgb) << "frame " << f;
}

TEST_F(StepPreview, ConditionedRequestsGetPreviewsToo) {
    // A first-frame request goes through the frame-mask path (known frames composited into the estimate).
    inference::GenerateRequest request = small_request("euler");
    core::Frame first(64, 48);
    for (size_t i = 0; i < first.rgb.size(); i += 3) first.rgb[i] = 200;  // red
    request.params.conditioning.first_frame = "first.png";
    request.media.first_frame = first;
    std::vector<core::Video> previews;
    request.step_preview = [&](int, int, const core::Video& preview) { previews.push_back(preview); };
    auto video = generator_->generate(request);
    ASSERT_TRUE(video.ok()) << video.message();
    ASSERT_EQ(previews.size(), 4u);
    ASSERT_EQ(previews.back().frame_count(), 1);
    EXPECT_LT(mean_abs_diff(previews.back().frames[0], video->frames[4]), 0.5);
}

}  // namespace
