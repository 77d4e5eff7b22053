// UniPC and DPM++ flow solvers: the reference schedule tables, the UniPC golden, exactness on straight flows,
// the common sample() interface.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "inference/sampler.h"
#include "inference/tensor_io.h"

namespace fl::inference {
namespace {
namespace fs = std::filesystem;

const fs::path kGoldens = fs::path(FL_TEST_DATA_DIR) / "goldens";

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
    return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

TEST(UniPCSchedule, Steps50Shift5MatchesReferenceTable) {
    const std::vector<int64_t> expected = {999, 995, 991, 987, 982, 978, 973, 968, 963, 957, 952, 946, 940,
                                           934, 927, 920, 913, 906, 898, 890, 882, 873, 863, 854, 843, 833,
                                           821, 809, 796, 783, 768, 753, 737, 720, 701, 681, 660, 636, 611,
                                           584, 555, 522, 487, 448, 405, 356, 302, 241, 172, 92};
    const FlowSchedule s = unipc_schedule(50, 5.0);
    EXPECT_EQ(s.timesteps, expected);
    ASSERT_EQ(s.sigmas.size(), 51u);
    EXPECT_NEAR(s.sigmas[0], 0.99979985, 5e-9);
    EXPECT_NEAR(s.sigmas[49], 0.09250686, 5e-9);
    EXPECT_EQ(s.sigmas[50], 0.0f);
    for (size_t i = 1; i < s.sigmas.size(); ++i) EXPECT_LT(s.sigmas[i], s.sigmas[i - 1]) << i;
}

TEST(UniPCSchedule, Steps40Shift3MatchesReferenceTable) {
    const std::vector<int64_t> expected = {
        999, 991, 982, 973, 963, 954, 944, 933, 922, 911, 899, 887, 874, 861, 847, 832, 817, 801, 785, 767,
        749, 730, 710, 688, 666, 642, 617, 590, 562, 531, 499, 465, 428, 388, 345, 299, 249, 195, 136, 71};
    const FlowSchedule s = unipc_schedule(40, 3.0);
    EXPECT_EQ(s.timesteps, expected);
    EXPECT_EQ(s.sigmas.size(), 41u);
    EXPECT_EQ(s.sigmas.back(), 0.0f);
}

TEST(UniPCSchedule, SigmaMaxIsTheFp32Value) {
    // shift 1 leaves σ_0 = fp32(1 − 0.001) read back as a double, so t_0 = int(999.0000128…) = 999.
    const FlowSchedule s = unipc_schedule(10, 1.0);
    EXPECT_EQ(static_cast<double>(s.sigmas[0]), 0.9990000128746033);
    EXPECT_EQ(s.timesteps[0], 999);
    const std::vector<double> lin = detail::linspace_head(1.0, 0.0, 4);
    EXPECT_EQ(lin, (std::vector<double>{1.0, 0.75, 0.5, 0.25}));
}

// The reference's synthetic field v(x, t) = 0.3·x + t/1000 with t the scheduler's integer timestep.
torch::Tensor synthetic_velocity(const torch::Tensor& x, double t, int) {
    return 0.3 * x + static_cast<float>(t) / 1000.0f;
}

TEST(UniPCGolden, ReproducesTimestepsSigmasAndEverySample) {
    auto io = SafeTensorsFile::open(kGoldens / "unipc_flow_12steps_shift5.io.safetensors");
    ASSERT_TRUE(io.ok()) << io.message();
    ASSERT_EQ(io->metadata().at("component"), "flow-unipc");
    const int steps = std::stoi(io->metadata().at("steps"));
    const double shift = std::stod(io->metadata().at("shift"));
    ASSERT_EQ(steps, 12);
    const FlowSchedule schedule = unipc_schedule(steps, shift);

    const torch::Tensor timesteps = *read_tensor(*io, "timesteps"), sigmas = *read_tensor(*io, "sigmas");
    ASSERT_EQ(timesteps.numel(), steps);
    ASSERT_EQ(sigmas.numel(), steps + 1);
    for (int i = 0; i < steps; ++i)
        EXPECT_EQ(schedule.timesteps[static_cast<size_t>(i)],
                  static_cast<int64_t>(timesteps[i].item<float>()))
            << i;
    for (int i = 0; i <= steps; ++i)
        EXPECT_EQ(schedule.sigmas[static_cast<size_t>(i)], sigmas[i].item<float>()) << i;

    std::vector<torch::Tensor> samples;
    std::vector<double> seen_t;
    const TimestepVelocityFn velocity = [&](const torch::Tensor& x, double t, int step) {
        EXPECT_EQ(step, static_cast<int>(seen_t.size()));
        seen_t.push_back(t);
        return synthetic_velocity(x, t, step);
    };
    auto result = sample_unipc(*read_tensor(*io, "x_init"), schedule, velocity, {}, {},
                               [&](int, torch::Tensor& x) { samples.push_back(x.clone()); });
    ASSERT_TRUE(result.ok()) << result.message();
    ASSERT_EQ(samples.size(), static_cast<size_t>(steps));
    double worst = 0.0;
    for (int k = 0; k < steps; ++k) {
        const torch::Tensor expected = *read_tensor(*io, "x." + std::to_string(k));
        ASSERT_EQ(samples[static_cast<size_t>(k)].sizes(), expected.sizes());
        const double err = max_abs_diff(samples[static_cast<size_t>(k)], expected);
        EXPECT_LE(err, 1e-4) << "x." << k;
        worst = std::max(worst, err);
    }
    std::printf("[ unipc golden ] max |delta| over x.0..x.%d = %.3g\n", steps - 1, worst);
    RecordProperty("max_abs_diff", std::to_string(worst));
    EXPECT_TRUE(torch::equal(*result, samples.back()));
    for (int i = 0; i < steps; ++i) EXPECT_EQ(seen_t[static_cast<size_t>(i)], timesteps[i].item<float>());
}

TEST(DPMppSchedule, StartsAtExactlyOne) {
    const FlowSchedule s = dpmpp_schedule(12, 5.0);
    ASSERT_EQ(s.sigmas.size(), 13u);
    EXPECT_EQ(s.sigmas.front(), 1.0f);
    EXPECT_EQ(s.sigmas.back(), 0.0f);
    EXPECT_EQ(s.timesteps.front(), 1000);
    const FlowSchedule plain = dpmpp_schedule(4, 1.0);
    EXPECT_EQ(plain.timesteps, (std::vector<int64_t>{1000, 750, 500, 250}));
    EXPECT_EQ(plain.sigmas, (std::vector<float>{1.0f, 0.75f, 0.5f, 0.25f, 0.0f}));
    // Shifted as Euler's table (which also starts at 1).
    const std::vector<double> euler = euler_sigmas(12, 5.0);
    for (size_t i = 0; i < s.sigmas.size(); ++i) EXPECT_EQ(s.sigmas[i], static_cast<float>(euler[i])) << i;
}

/// A straight flow from ε (σ = 1) to x0: every solver's x0 prediction is x0, so each lands on the line.
void expect_straight_flow_exact(SamplerKind kind, int steps, double shift) {
    torch::manual_seed(17);
    const torch::Tensor x0 = torch::randn({2, 4, 3, 5, 6}), eps = torch::randn({2, 4, 3, 5, 6});
    const FlowSchedule schedule =
        kind == SamplerKind::UniPC ? unipc_schedule(steps, shift) : dpmpp_schedule(steps, shift);
    const torch::Tensor start = (1 - schedule.sigmas[0]) * x0 + schedule.sigmas[0] * eps;
    // Constant field v = ε − x0.
    std::vector<torch::Tensor> path;
    auto constant = sample(
        kind, start.clone(), steps, shift, [&](const torch::Tensor&, double, int) { return eps - x0; }, {},
        {}, [&](int, torch::Tensor& x) { path.push_back(x.clone()); });
    ASSERT_TRUE(constant.ok()) << constant.message();
    EXPECT_LE(max_abs_diff(*constant, x0), 1e-5) << to_string(kind);
    for (int k = 0; k < steps; ++k) {
        const float s = schedule.sigmas[static_cast<size_t>(k) + 1];
        EXPECT_LE(max_abs_diff(path[static_cast<size_t>(k)], (1 - s) * x0 + s * eps), 1e-5)
            << to_string(kind) << " " << k;
    }
    // The same field as a function of the state, v = (x − x0)/σ: linear in x, x0 prediction exact anywhere.
    auto state =
        sample(kind, start.clone() + 0.25, steps, shift, [&](const torch::Tensor& x, double, int step) {
            return (x - x0) / schedule.sigmas[static_cast<size_t>(step)];
        });
    ASSERT_TRUE(state.ok()) << state.message();
    EXPECT_LE(max_abs_diff(*state, x0), 1e-5) << to_string(kind);
}

TEST(FlowSolvers, UniPCIsExactOnAStraightFlow) {
    expect_straight_flow_exact(SamplerKind::UniPC, 12, 5.0);
    expect_straight_flow_exact(SamplerKind::UniPC, 1, 3.0);
    expect_straight_flow_exact(SamplerKind::UniPC, 2, 1.0);
}

TEST(FlowSolvers, DPMppIsExactOnAStraightFlow) {
    expect_straight_flow_exact(SamplerKind::DPMpp2M, 12, 5.0);
    expect_straight_flow_exact(SamplerKind::DPMpp2M, 1, 3.0);
    expect_straight_flow_exact(SamplerKind::DPMpp2M, 3, 1.0);
}

/// DPM++ 2M written out on one double scalar, straight from reference/wan.md §5.5.
double dpmpp_scalar(double x, const FlowSchedule& s) {
    const auto lambda = [](double sigma) { return std::log(1.0 - sigma) - std::log(sigma); };
    const int n = static_cast<int>(s.timesteps.size());
    double m_prev = 0.0;
    for (int i = 0; i < n; ++i) {
        const double si = s.sigmas[static_cast<size_t>(i)], st = s.sigmas[static_cast<size_t>(i) + 1];
        const double v = 0.3 * x + static_cast<double>(s.timesteps[static_cast<size_t>(i)]) / 1000.0;
        const double m = x - si * v;
        const double h = lambda(st) - lambda(si);
        const double phi = (1.0 - st) * (std::exp(-h) - 1.0);
        if (i == 0 || i == n - 1) {
            x = (st / si) * x - phi * m;
        } else {
            const double r0 = (lambda(si) - lambda(s.sigmas[static_cast<size_t>(i) - 1])) / h;
            x = (st / si) * x - phi * m - 0.5 * phi * (m - m_prev) / r0;
        }
        m_prev = m;
    }
    return x;
}

TEST(FlowSolvers, DPMppMatchesTheFormulasOnTheSyntheticField) {
    const FlowSchedule s = dpmpp_schedule(12, 5.0);
    const torch::Tensor x = torch::tensor({-1.5f, -0.25f, 0.0f, 0.7f, 2.0f});
    auto r = sample_dpmpp_2m(x, s, synthetic_velocity);
    ASSERT_TRUE(r.ok()) << r.message();
    for (int64_t i = 0; i < x.numel(); ++i)
        EXPECT_NEAR(r->index({i}).item<double>(), dpmpp_scalar(x[i].item<double>(), s), 1e-5) << i;
}

TEST(FlowSolvers, UniPCOrdersAreThoseOfTheReference) {
    // Second order from step 1 on differs from first order; the last step returns the x0 prediction itself.
    const FlowSchedule s = unipc_schedule(6, 5.0);
    torch::Tensor last_x0;
    const TimestepVelocityFn v = [&](const torch::Tensor& x, double t, int step) {
        const torch::Tensor out = synthetic_velocity(x, t, step);
        last_x0 = x - s.sigmas[static_cast<size_t>(step)] * out;
        return out;
    };
    auto r = sample_unipc(torch::tensor({0.3f, -1.1f}), s, v);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(torch::equal(*r, last_x0));
}

TEST(SampleInterface, ParsesNames) {
    for (const auto kind : {SamplerKind::Euler, SamplerKind::UniPC, SamplerKind::DPMpp2M}) {
        auto parsed = parse_sampler(to_string(kind));
        ASSERT_TRUE(parsed.ok());
        EXPECT_EQ(*parsed, kind);
    }
    auto bad = parse_sampler("ddim");
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.message().find("euler, unipc or dpm++"), std::string::npos) << bad.message();
}

TEST(SampleInterface, EulerThroughSampleIsSampleEuler) {
    torch::manual_seed(4);
    const torch::Tensor x = torch::randn({3, 4});
    const auto field = [](const torch::Tensor& xt, double sigma) { return 0.3 * xt + sigma; };
    auto direct = sample_euler(x, euler_sigmas(7, 3.0),
                               [&](const torch::Tensor& xt, double sigma, int) { return field(xt, sigma); });
    std::vector<double> seen;
    auto through = sample(SamplerKind::Euler, x, 7, 3.0, [&](const torch::Tensor& xt, double t, int) {
        seen.push_back(t);
        return field(xt, t / 1000.0);
    });
    ASSERT_TRUE(direct.ok() && through.ok());
    EXPECT_LE(max_abs_diff(*direct, *through), 1e-6);
    ASSERT_EQ(seen.size(), 7u);
    EXPECT_EQ(seen.front(), 1000.0);  // Euler's t is σ·1000, not truncated
    EXPECT_NE(seen[1], std::floor(seen[1]));
}

TEST(SampleInterface, IntegerTimestepsProgressCancelAndErrors) {
    for (const auto kind : {SamplerKind::UniPC, SamplerKind::DPMpp2M}) {
        const FlowSchedule s = kind == SamplerKind::UniPC ? unipc_schedule(5, 3.0) : dpmpp_schedule(5, 3.0);
        std::vector<double> seen;
        std::vector<std::string> labels;
        auto r = sample(
            kind, torch::zeros({2}), 5, 3.0,
            [&](const torch::Tensor& x, double t, int) {
                seen.push_back(t);
                return torch::ones_like(x);
            },
            {},
            [&](int64_t done, int64_t total, const std::string& label) {
                EXPECT_EQ(total, 5);
                EXPECT_EQ(done, static_cast<int64_t>(labels.size()) + 1);
                labels.push_back(label);
            });
        ASSERT_TRUE(r.ok()) << r.message();
        ASSERT_EQ(seen.size(), 5u);
        for (size_t i = 0; i < 5; ++i)
            EXPECT_EQ(seen[i], static_cast<double>(s.timesteps[i])) << to_string(kind);
        EXPECT_EQ(labels.back(), "step 5/5");

        int calls = 0;
        auto cancelled = sample(
            kind, torch::zeros({2}), 10, 3.0,
            [&](const torch::Tensor& x, double, int) {
                ++calls;
                return x;
            },
            [&] { return calls >= 3; });
        ASSERT_FALSE(cancelled.ok());
        EXPECT_TRUE(core::is_cancelled_message(cancelled.message()));
        EXPECT_EQ(calls, 3);

        auto wrong = sample(kind, torch::zeros({2, 3}), 4, 3.0,
                            [](const torch::Tensor&, double, int) { return torch::zeros({5}); });
        ASSERT_FALSE(wrong.ok());
        EXPECT_NE(wrong.message().find("step 1"), std::string::npos) << wrong.message();
        auto throws = sample(kind, torch::zeros({2, 3}), 4, 3.0,
                             [](const torch::Tensor& x, double, int) { return x.view({7}); });
        EXPECT_FALSE(throws.ok());
        EXPECT_FALSE(sample(kind, torch::zeros({1}), 0, 3.0, [](const torch::Tensor& x, double, int) {
                         return x;
                     }).ok());
    }
}

}  // namespace
}  // namespace fl::inference
