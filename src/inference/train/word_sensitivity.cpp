#include <torch/torch.h>

#include "frameloom/core/shapes_world.h"
#include "frameloom/inference/train.h"
#include "inference/torch_device.h"
#include "inference/frame_conditioning.h"
#include "inference/patch_codec.h"
#include "inference/wan_parts.h"

namespace fl::inference {
namespace {

namespace shapes = core::shapes;

shapes::Motion opposite(shapes::Motion m) {
    switch (m) {
        case shapes::Motion::Left:
            return shapes::Motion::Right;
        case shapes::Motion::Right:
            return shapes::Motion::Left;
        case shapes::Motion::Up:
            return shapes::Motion::Down;
        case shapes::Motion::Down:
            return shapes::Motion::Up;
        case shapes::Motion::Still:
            break;
    }
    return shapes::Motion::Still;
}

/// The prompts of `scenes` with `change` applied to each scene first.
template <typename Change>
std::vector<std::string> prompts(std::vector<shapes::Scene> scenes, Change change) {
    std::vector<std::string> out;
    for (auto& s : scenes) {
        change(s);
        out.push_back(shapes::canonical_prompt(s));
    }
    return out;
}

}  // namespace

core::Result<std::vector<WordSensitivity>> measure_word_sensitivity(const ModelCard& card, int clips,
                                                                    const std::vector<double>& sigmas,
                                                                    uint64_t seed,
                                                                    const DevicePolicy& device_policy,
                                                                    bool first_frame) {
    if (card.conditioning != "frame-mask" || card.codec != "patch")
        return core::fail("model '" + card.id +
                          "' is not a shapes-world model (frame-mask conditioning, patch codec): "
                          "`eval words` measures those only");
    if (clips < 1) return core::fail("measure at least 1 clip");
    for (const double sigma : sigmas)
        if (!(sigma > 0.0 && sigma <= 1.0))
            return core::fail("noise levels must be above 0 and at most 1, not " + std::to_string(sigma));
    auto policy = device_policy.resolve();
    if (!policy) return policy.error();
    auto parts = load_wan_parts(card);
    if (!parts) return parts.error();
    try {
        torch::NoGradGuard no_grad;
        const torch::Device device = use_device(*policy);
        parts->t5->to(device);
        parts->dit->to(device);
        parts->t5->eval();
        parts->dit->eval();
        std::mt19937_64 rng(seed);
        std::vector<shapes::Scene> scenes;
        std::vector<torch::Tensor> videos;
        while (static_cast<int>(scenes.size()) < clips) {
            const shapes::Scene s = shapes::random_scene(rng, shapes::Split::All);
            if (s.motion == shapes::Motion::Still) continue;  // "still" has no opposite
            scenes.push_back(s);
            videos.push_back(video_to_tensor(
                shapes::render(s, card.defaults.width, card.defaults.height, card.defaults.frames, {8, 1})));
        }
        const torch::Tensor x0 = parts->codec->encode(torch::stack(videos)).to(device);
        const int64_t text_len = parts->dit->config().text_len;
        const auto encode = [&](const std::vector<std::string>& p) {
            return encode_prompts(parts->tokenizer, *parts->t5, p, text_len).to(device);
        };
        const torch::Tensor correct = encode(prompts(scenes, [](shapes::Scene&) {}));
        const torch::Tensor colour = encode(prompts(scenes, [](shapes::Scene& s) {
            s.colour = static_cast<shapes::Colour>((static_cast<int>(s.colour) + 3) % shapes::kColours);
        }));
        const torch::Tensor shape = encode(prompts(scenes, [](shapes::Scene& s) {
            s.shape = static_cast<shapes::Shape>((static_cast<int>(s.shape) + 1) % shapes::kShapes);
        }));
        const torch::Tensor motion =
            encode(prompts(scenes, [](shapes::Scene& s) { s.motion = opposite(s.motion); }));
        const torch::Tensor background = encode(prompts(scenes, [](shapes::Scene& s) {
            s.background =
                static_cast<shapes::Background>((static_cast<int>(s.background) + 2) % shapes::kBackgrounds);
        }));
        const torch::Tensor empty = encode(std::vector<std::string>(scenes.size()));

        FrameCondition condition;
        condition.known = torch::zeros({x0.size(0), 1, x0.size(2), 1, 1}, x0.options());
        condition.ref = torch::zeros_like(condition.known);
        if (first_frame) condition.known.narrow(2, 0, 1).fill_(1.0);
        condition.clean = x0 * condition.known;
        condition.positions = card.position_channels;
        // The frames the model has to make (all, or all but the given first one).
        const int64_t given = first_frame ? 1 : 0, made = x0.size(2) - given;
        const bool x0_model = card.prediction == "x0";
        std::vector<WordSensitivity> rows;
        for (size_t i = 0; i < sigmas.size(); ++i) {
            const double sigma = sigmas[i];
            auto gen = at::make_generator<at::CPUGeneratorImpl>(seed * 0x9E3779B97F4A7C15ULL + i);
            const torch::Tensor noise = torch::randn(x0.sizes(), gen, torch::kFloat32).to(device);
            const torch::Tensor xt = (1.0 - sigma) * x0 + sigma * noise;
            const torch::Tensor input = frame_mask_input(xt, condition);
            const torch::Tensor t = torch::full({x0.size(0)}, sigma * 1000.0, x0.options());
            const auto error = [&](const torch::Tensor& context) {
                torch::Tensor out = parts->dit->forward(input, t, context);
                if (!x0_model) out = xt - sigma * out;  // velocity = noise − x0
                return (out - x0).narrow(2, given, made).pow(2).mean().item<double>();
            };
            rows.push_back({sigma, error(correct), error(colour), error(shape), error(motion),
                            error(background), error(empty)});
        }
        return rows;
    } catch (const std::exception& e) {
        return core::fail_from("measuring word sensitivity failed: ", e);
    }
}

}  // namespace fl::inference
