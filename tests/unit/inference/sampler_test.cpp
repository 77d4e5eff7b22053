// Flow-matching Euler sampler: sigma table, exactness on a straight flow, CFG, cancellation.
#include "inference/sampler.h"

#include <gtest/gtest.h>

namespace fl::inference {
namespace {

TEST(Sampler, ShiftFormula) {
    EXPECT_DOUBLE_EQ(shift_sigma(0.0, 5.0), 0.0);
    EXPECT_DOUBLE_EQ(shift_sigma(1.0, 5.0), 1.0);
    EXPECT_DOUBLE_EQ(shift_sigma(0.5, 1.0), 0.5);
    EXPECT_DOUBLE_EQ(shift_sigma(0.5, 5.0), 2.5 / 3.0);
    EXPECT_DOUBLE_EQ(shift_sigma(0.25, 3.0), 0.75 / 1.5);
}

TEST(Sampler, EulerSigmaTable) {
    const auto s = euler_sigmas(10, 5.0);
    ASSERT_EQ(s.size(), 11u);
    EXPECT_EQ(s.front(), 1.0);
    EXPECT_EQ(s.back(), 0.0);
    for (size_t i = 0; i < s.size(); ++i) {
        const double base = 1.0 - static_cast<double>(i) / 10.0;
        EXPECT_NEAR(s[i], 5.0 * base / (1.0 + 4.0 * base), 1e-15) << i;
        if (i > 0) {
            EXPECT_LT(s[i], s[i - 1]);
        }
    }
    const auto plain = euler_sigmas(4, 1.0);
    EXPECT_EQ(plain, (std::vector<double>{1.0, 0.75, 0.5, 0.25, 0.0}));
    EXPECT_DOUBLE_EQ(sigma_to_timestep(s[0]), 1000.0);
}

TEST(Sampler, EulerLandsOnX0ForAStraightFlow) {
    torch::manual_seed(11);
    const torch::Tensor x0 = torch::randn({2, 4, 3, 5, 6});
    const torch::Tensor eps = torch::randn({2, 4, 3, 5, 6});
    // Constant field v = ε − x0.
    auto constant = sample_euler(eps.clone(), euler_sigmas(7, 5.0),
                                 [&](const torch::Tensor&, double, int) { return eps - x0; });
    ASSERT_TRUE(constant.ok()) << constant.message();
    EXPECT_LE((*constant - x0).abs().max().item<double>(), 1e-5);
    // The same field written as a function of the state, v = (x − x0)/σ: exact only along the line.
    auto state = sample_euler(eps.clone(), euler_sigmas(13, 3.0),
                              [&](const torch::Tensor& x, double sigma, int) { return (x - x0) / sigma; });
    ASSERT_TRUE(state.ok()) << state.message();
    EXPECT_LE((*state - x0).abs().max().item<double>(), 1e-5);
}

TEST(Sampler, ReportsProgressAndPassesStepAndSigma) {
    const auto sigmas = euler_sigmas(5, 2.0);
    std::vector<std::string> labels;
    std::vector<std::pair<int, double>> seen;
    auto r = sample_euler(
        torch::zeros({1}), sigmas,
        [&](const torch::Tensor& x, double sigma, int step) {
            seen.emplace_back(step, sigma);
            return torch::ones_like(x);
        },
        {},
        [&](int64_t done, int64_t total, const std::string& label) {
            EXPECT_EQ(total, 5);
            EXPECT_EQ(done, static_cast<int64_t>(labels.size()) + 1);
            labels.push_back(label);
        });
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(labels, (std::vector<std::string>{"step 1/5", "step 2/5", "step 3/5", "step 4/5", "step 5/5"}));
    ASSERT_EQ(seen.size(), 5u);
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(seen[static_cast<size_t>(i)].first, i);
        EXPECT_EQ(seen[static_cast<size_t>(i)].second, sigmas[static_cast<size_t>(i)]);
    }
    EXPECT_NEAR(r->item<float>(), -1.0, 1e-6);  // x moves by Σ Δσ · 1 = −1
}

TEST(Sampler, CfgFormula) {
    const torch::Tensor c = torch::tensor({1.0f, 2.0f, -3.0f}), u = torch::tensor({0.5f, 2.0f, 1.0f});
    EXPECT_TRUE(torch::allclose(apply_cfg(c, u, 5.0), u + 5.0 * (c - u)));
    EXPECT_TRUE(torch::equal(apply_cfg(c, u, 1.0), c));
    EXPECT_TRUE(torch::equal(apply_cfg(c, u, 0.0), u));
    EXPECT_TRUE(torch::allclose(apply_cfg(c, u, 6.0), torch::tensor({3.5f, 2.0f, -23.0f})));
}

TEST(Sampler, CancelStopsBeforeTheNextStep) {
    int calls = 0;
    int64_t last_done = 0;
    auto r = sample_euler(
        torch::zeros({2}), euler_sigmas(10, 5.0),
        [&](const torch::Tensor& x, double, int) {
            ++calls;
            return torch::ones_like(x);
        },
        [&] { return calls >= 3; }, [&](int64_t done, int64_t, const std::string&) { last_done = done; });
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.message(), core::kCancelledMessage);
    EXPECT_TRUE(core::is_cancelled_message(r.message()));
    EXPECT_EQ(calls, 3);
    EXPECT_EQ(last_done, 3);
    // Cancelled before the first step: the model is never called.
    calls = 0;
    auto early = sample_euler(
        torch::zeros({2}), euler_sigmas(4, 1.0),
        [&](const torch::Tensor& x, double, int) {
            ++calls;
            return x;
        },
        [] { return true; });
    EXPECT_FALSE(early.ok());
    EXPECT_EQ(calls, 0);
}

TEST(Sampler, ModelErrorsBecomeResults) {
    auto wrong = sample_euler(torch::zeros({2, 3}), euler_sigmas(2, 1.0),
                              [](const torch::Tensor&, double, int) { return torch::zeros({5}); });
    ASSERT_FALSE(wrong.ok());
    EXPECT_NE(wrong.message().find("step 1"), std::string::npos);
    auto throws = sample_euler(torch::zeros({2, 3}), euler_sigmas(2, 1.0),
                               [](const torch::Tensor& x, double, int) { return x.view({7}); });
    ASSERT_FALSE(throws.ok());
    EXPECT_FALSE(
        sample_euler(torch::zeros({1}), {1.0}, [](const torch::Tensor& x, double, int) { return x; }).ok());
}

}  // namespace
}  // namespace fl::inference
