#include "frameloom/inference/generator.h"

namespace fl::inference {

core::GenerationParams default_params(const ModelCard& card) {
    core::GenerationParams p;
    p.model = card.id;
    p.negative_prompt = card.defaults.negative_prompt;
    p.steps = card.defaults.steps;
    p.guidance = card.defaults.guidance;
    p.shift = card.defaults.shift;
    p.sampler = card.defaults.sampler;
    p.width = card.defaults.width;
    p.height = card.defaults.height;
    p.frames = card.defaults.frames;
    p.fps = card.defaults.fps;
    return p;
}

}  // namespace fl::inference
