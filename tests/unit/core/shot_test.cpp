#include "frameloom/core/shot.h"

#include <gtest/gtest.h>

namespace fl::core {
namespace {

GenerationParams valid_params() {
    GenerationParams p;
    p.prompt = "a red circle moving left";
    return p;
}

void expect_invalid(const GenerationParams& p, const std::string& needle) {
    const auto r = p.validate();
    ASSERT_FALSE(r.ok()) << "expected failure mentioning " << needle;
    EXPECT_NE(r.message().find(needle), std::string::npos) << r.message();
}

TEST(GenerationParamsTest, DefaultsWithPromptAreValid) { EXPECT_TRUE(valid_params().validate().ok()); }

TEST(GenerationParamsTest, EachBadFieldGetsAClearMessage) {
    auto p = valid_params();
    p.width = 70;
    expect_invalid(p, "70x64 is not divisible by 16");
    p = valid_params();
    p.height = 0;
    expect_invalid(p, "64x0 is invalid");
    p = valid_params();
    p.frames = 0;
    expect_invalid(p, "frames must be at least 1 (got 0)");
    p = valid_params();
    p.frames = -4;
    expect_invalid(p, "frames must be at least 1 (got -4)");
    p = valid_params();
    p.steps = -3;
    expect_invalid(p, "steps must be between 1 and 1000 (got -3)");
    p = valid_params();
    p.prompt.clear();
    expect_invalid(p, "prompt is empty");
    p = valid_params();
    p.shift = 0;
    expect_invalid(p, "shift");
    p = valid_params();
    p.sampler = "ddim";
    expect_invalid(p, "sampler 'ddim' is unknown: use euler, unipc or dpm++");
    for (const char* ok : {"euler", "unipc", "dpm++"}) {
        p.sampler = ok;
        EXPECT_TRUE(p.validate().ok()) << ok;
    }
}

TEST(GenerationParamsTest, CheckInvariantsIsStructuralOnly) {
    GenerationParams p;  // no prompt: still a storable draft
    EXPECT_TRUE(p.check_invariants().ok());
    p.width = 70;  // not divisible by 16: validate()'s business, not a broken project
    EXPECT_TRUE(p.check_invariants().ok());
    p.steps = 0;
    EXPECT_FALSE(p.check_invariants().ok());
    p = GenerationParams{};
    p.frames = -1;
    EXPECT_FALSE(p.check_invariants().ok());
}

TEST(ShotTest, SelectedTakeMustExistAndTakeIdsUnique) {
    Shot s;
    s.id = "shot-1";
    Take t;
    t.id = "take-2";
    t.file = "a.mp4";
    s.takes = {t};
    s.selected_take = "take-2";
    EXPECT_TRUE(s.check_invariants().ok());
    EXPECT_EQ(s.find_take("take-2"), &s.takes[0]);
    s.selected_take = "take-9";
    EXPECT_FALSE(s.check_invariants().ok());
    s.selected_take.clear();
    s.takes.push_back(t);
    EXPECT_FALSE(s.check_invariants().ok());
}

}  // namespace
}  // namespace fl::core
