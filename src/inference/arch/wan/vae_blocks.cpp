#include "inference/arch/wan/vae_blocks.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "inference/blocks/attention.h"

namespace fl::inference::wan {
namespace {

using K3 = std::array<int64_t, 3>;

// An unnamed container module, so children register under "<name>.<index>" as nn.Sequential keys do.
std::shared_ptr<torch::nn::Module> holder(torch::nn::Module& parent, const std::string& name) {
    return parent.register_module(name, std::make_shared<torch::nn::Module>());
}

// x: [B, C, T, H, W] → [B·T, C, H, W] (frame-major, as rearrange 'b c t h w -> (b t) c h w')
torch::Tensor to_frames(const torch::Tensor& x) {
    return x.permute({0, 2, 1, 3, 4}).reshape({x.size(0) * x.size(2), x.size(1), x.size(3), x.size(4)});
}

// y: [B·T, C, H, W] → [B, C, T, H, W]
torch::Tensor from_frames(const torch::Tensor& y, int64_t b, int64_t t) {
    return y.view({b, t, y.size(1), y.size(2), y.size(3)}).permute({0, 2, 1, 3, 4});
}

// SiLU of a tensor nobody else holds (a fresh norm output), in place: no second full-size tensor.
torch::Tensor silu_in_place(torch::Tensor x) { return torch::silu_(x); }

// The last min(n, T) frames of x as an owned copy (so the chunk's activations can be freed).
torch::Tensor last_frames(const torch::Tensor& x, int64_t n) {
    const int64_t t = x.size(2), k = std::min(n, t);
    return x.narrow(2, t - k, k).clone();
}

}  // namespace

CacheSlot& FeatureCache::next() {
    if (index >= slots.size()) slots.resize(index + 1);
    return slots[index++];
}

// ---------------------------------------------------------------------------------------------------------

CausalConv3dImpl::CausalConv3dImpl(int64_t in, int64_t out, std::array<int64_t, 3> kernel,
                                   std::array<int64_t, 3> padding, std::array<int64_t, 3> stride)
    : padding_(padding), stride_(stride) {
    weight = register_parameter("weight", torch::empty({out, in, kernel[0], kernel[1], kernel[2]}));
    bias = register_parameter("bias", torch::empty({out}));
}

torch::Tensor CausalConv3dImpl::forward(const torch::Tensor& x, const torch::Tensor& cache) const {
    const auto [pt, ph, pw] = padding_;
    const bool use_cache = cache.defined() && pt > 0;
    const int64_t cached = use_cache ? cache.size(2) : 0;
    const int64_t front = std::max<int64_t>(0, 2 * pt - cached);  // zero frames before the cached ones
    if (cached == 0 && front == 0 && ph == 0 && pw == 0)
        return torch::conv3d(x, weight, bias, {stride_[0], stride_[1], stride_[2]});
    // The cached frames, x and the zero padding written into one buffer: the same input as cat + pad,
    // without a second full-size copy (the decoder's full-resolution stages are the memory peak).
    const int64_t t = x.size(2), h = x.size(3), w = x.size(4);
    torch::Tensor in = torch::zeros({x.size(0), x.size(1), front + cached + t, h + 2 * ph, w + 2 * pw}, x.options());
    const auto interior = [&](int64_t start, int64_t frames) {
        return in.narrow(2, start, frames).narrow(3, ph, h).narrow(4, pw, w);
    };
    if (cached > 0) interior(front, cached).copy_(cache);
    interior(front + cached, t).copy_(x);
    return torch::conv3d(in, weight, bias, {stride_[0], stride_[1], stride_[2]});
}

torch::Tensor CausalConv3dImpl::forward_cached(const torch::Tensor& x, FeatureCache& cache) const {
    CacheSlot& slot = cache.next();
    const bool has = slot.state == CacheSlot::State::Frames;
    torch::Tensor keep = last_frames(x, 2);
    if (keep.size(2) < 2 && has) keep = torch::cat({last_frames(slot.frames, 1).to(keep.device()), keep}, 2);
    torch::Tensor out = forward(x, has ? slot.frames : torch::Tensor());
    slot.state = CacheSlot::State::Frames;
    slot.frames = keep;
    return out;
}

VAERMSNormImpl::VAERMSNormImpl(int64_t dim, bool images) : scale_(std::sqrt(static_cast<double>(dim))) {
    gamma = register_parameter("gamma", images ? torch::ones({dim, 1, 1}) : torch::ones({dim, 1, 1, 1}));
}

torch::Tensor VAERMSNormImpl::forward(const torch::Tensor& x) const {
    // F.normalize(x, dim=1): x / max(‖x‖₂, 1e-12) over channels
    const torch::Tensor denom =
        x.norm(c10::optional<c10::Scalar>(2.0), torch::IntArrayRef{1}, /*keepdim=*/true).clamp_min(1e-12);
    return torch::div(x, denom).mul_(gamma * scale_);  // one full-size result, scaled in place
}

VAEConv2dImpl::VAEConv2dImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding)
    : stride_(stride), padding_(padding) {
    weight = register_parameter("weight", torch::empty({out, in, kernel, kernel}));
    bias = register_parameter("bias", torch::empty({out}));
}

torch::Tensor VAEConv2dImpl::forward(const torch::Tensor& x) const {
    return torch::conv2d(x, weight, bias, {stride_, stride_}, {padding_, padding_});
}

// ---------------------------------------------------------------------------------------------------------

ResidualBlock::ResidualBlock(int64_t in, int64_t out) {
    auto residual = holder(*this, "residual");
    norm0_ = residual->register_module("0", VAERMSNorm(in, /*images=*/false));
    conv2_ = residual->register_module("2", CausalConv3d(in, out, K3{3, 3, 3}, K3{1, 1, 1}));
    norm3_ = residual->register_module("3", VAERMSNorm(out, /*images=*/false));
    conv6_ = residual->register_module("6", CausalConv3d(out, out, K3{3, 3, 3}, K3{1, 1, 1}));
    if (in != out) shortcut_ = register_module("shortcut", CausalConv3d(in, out, K3{1, 1, 1}, K3{0, 0, 0}));
}

torch::Tensor ResidualBlock::forward(const torch::Tensor& x, FeatureCache& cache) {
    const torch::Tensor h = shortcut_ ? shortcut_->forward(x) : x;  // the 1×1×1 shortcut is never cached
    // The norms return fresh tensors, so SiLU and the residual sum work in place (less peak memory).
    torch::Tensor y = conv2_->forward_cached(silu_in_place(norm0_->forward(x)), cache);
    y = conv6_->forward_cached(silu_in_place(norm3_->forward(y)), cache);  // dropout is identity at inference
    return y.add_(h);
}

AttentionBlock::AttentionBlock(int64_t dim) {
    norm_ = register_module("norm", VAERMSNorm(dim, /*images=*/true));
    to_qkv_ = register_module("to_qkv", VAEConv2d(dim, 3 * dim, 1, 1, 0));
    proj_ = register_module("proj", VAEConv2d(dim, dim, 1, 1, 0));
}

torch::Tensor AttentionBlock::forward(const torch::Tensor& x, FeatureCache&) {
    const int64_t b = x.size(0), c = x.size(1), t = x.size(2), h = x.size(3), w = x.size(4), n = b * t;
    const torch::Tensor frames = norm_->forward(to_frames(x));  // [N, C, H, W]
    // [N, 3C, H, W] → [N, 1, HW, 3C]; q, k, v are the channel thirds [0,C), [C,2C), [2C,3C)
    const torch::Tensor qkv =
        to_qkv_->forward(frames).reshape({n, 1, 3 * c, h * w}).permute({0, 1, 3, 2}).contiguous();
    const auto parts = qkv.chunk(3, -1);
    torch::Tensor o = attention(parts[0], parts[1], parts[2]);  // [N, 1, HW, C], scale 1/√C
    o = o.squeeze(1).permute({0, 2, 1}).reshape({n, c, h, w});
    return from_frames(proj_->forward(o), b, t) + x;
}

Resample::Resample(int64_t dim, int64_t out, Mode mode) : mode_(mode) {
    auto resample = holder(*this, "resample");
    const bool up = mode == Mode::Upsample2d || mode == Mode::Upsample3d;
    // up: Upsample ×2 (key 0, no weights) then Conv2d(dim, out, 3, pad 1); down: ZeroPad2d then Conv2d stride
    // 2
    conv_ = resample->register_module("1", up ? VAEConv2d(dim, out, 3, 1, 1) : VAEConv2d(dim, out, 3, 2, 0));
    if (mode == Mode::Upsample3d)
        time_conv_ = register_module("time_conv", CausalConv3d(dim, 2 * dim, K3{3, 1, 1}, K3{1, 0, 0}));
    else if (mode == Mode::Downsample3d)
        time_conv_ =
            register_module("time_conv", CausalConv3d(dim, dim, K3{3, 1, 1}, K3{0, 0, 0}, K3{2, 1, 1}));
}

torch::Tensor Resample::forward(const torch::Tensor& x, FeatureCache& cache) {
    using State = CacheSlot::State;
    torch::Tensor y = x;
    const int64_t b = x.size(0);
    if (mode_ == Mode::Upsample3d) {
        CacheSlot& slot = cache.next();
        if (slot.state == State::Empty) {
            slot.state = State::Rep;  // first chunk: no time_conv, so frame 0 is not duplicated
        } else {
            const int64_t c = x.size(1), t = x.size(2), h = x.size(3), w = x.size(4);
            torch::Tensor keep = last_frames(x, 2);
            if (keep.size(2) < 2 && slot.state == State::Frames)
                keep = torch::cat({last_frames(slot.frames, 1).to(keep.device()), keep}, 2);
            if (keep.size(2) < 2 && slot.state == State::Rep)
                keep = torch::cat({torch::zeros_like(keep), keep}, 2);
            y = slot.state == State::Rep ? time_conv_->forward(x) : time_conv_->forward(x, slot.frames);
            slot.state = State::Frames;
            slot.frames = keep;
            // [B, 2C, T, H, W] → [B, 2, C, T, H, W] → halves interleaved in time (half 0 first) → [B, C, 2T,
            // H, W]
            y = y.reshape({b, 2, c, t, h, w});
            y = torch::stack({y.select(1, 0), y.select(1, 1)}, 3).reshape({b, c, 2 * t, h, w});
        }
    }

    const int64_t t = y.size(2);
    torch::Tensor f = to_frames(y);  // [B·T, C, H, W]
    if (mode_ == Mode::Upsample2d || mode_ == Mode::Upsample3d) {
        // nearest-exact ×2 is pixel duplication: [N, C, H, 1, W, 1] → [N, C, 2H, 2W]
        const int64_t n = f.size(0), c = f.size(1), h = f.size(2), w = f.size(3);
        f = f.view({n, c, h, 1, w, 1}).expand({n, c, h, 2, w, 2}).reshape({n, c, 2 * h, 2 * w});
    } else {
        f = torch::constant_pad_nd(f, {0, 1, 0, 1}, 0.0);  // ZeroPad2d((0, 1, 0, 1)): right and bottom
    }
    y = from_frames(conv_->forward(f), b, t);

    if (mode_ == Mode::Downsample3d) {
        CacheSlot& slot = cache.next();
        if (slot.state == State::Empty) {
            slot.state = State::Frames;  // first chunk: keep the frame, skip time_conv (1 frame stays 1)
            slot.frames = y.clone();
        } else {
            torch::Tensor keep = last_frames(y, 1);
            y = time_conv_->forward(torch::cat({last_frames(slot.frames, 1).to(y.device()), y}, 2));
            slot.frames = keep;
        }
    }
    return y;
}

void LayerList::push_back(torch::nn::ModuleListImpl& list, std::shared_ptr<VAELayer> layer) {
    list.push_back(layer);
    layers_.push_back(std::move(layer));
}

torch::Tensor LayerList::forward(torch::Tensor x, FeatureCache& cache) const {
    for (const auto& layer : layers_) x = layer->forward(x, cache);
    return x;
}

// ---------------------------------------------------------------------------------------------------------

namespace {

void add_middle(torch::nn::Module& owner, LayerList& middle, int64_t dim) {
    auto list = owner.register_module("middle", torch::nn::ModuleList());
    middle.push_back(*list, std::make_shared<ResidualBlock>(dim, dim));
    middle.push_back(*list, std::make_shared<AttentionBlock>(dim));
    middle.push_back(*list, std::make_shared<ResidualBlock>(dim, dim));
}

void add_layers(torch::nn::Module& owner, const std::string& name, LayerList& out,
                const std::vector<std::shared_ptr<VAELayer>>& layers) {
    auto list = owner.register_module(name, torch::nn::ModuleList());
    for (const auto& layer : layers) out.push_back(*list, layer);
}

}  // namespace

Encoder3dImpl::Encoder3dImpl(int64_t in_channels, int64_t first_dim, int64_t last_dim, int64_t z_out,
                             const std::vector<std::shared_ptr<VAELayer>>& downsamples) {
    conv1_ = register_module("conv1", CausalConv3d(in_channels, first_dim, K3{3, 3, 3}, K3{1, 1, 1}));
    add_layers(*this, "downsamples", downsamples_, downsamples);
    add_middle(*this, middle_, last_dim);
    auto head = holder(*this, "head");
    head0_ = head->register_module("0", VAERMSNorm(last_dim, /*images=*/false));
    head2_ = head->register_module("2", CausalConv3d(last_dim, z_out, K3{3, 3, 3}, K3{1, 1, 1}));
}

torch::Tensor Encoder3dImpl::forward(const torch::Tensor& x, FeatureCache& cache) {
    torch::Tensor y = conv1_->forward_cached(x, cache);
    y = downsamples_.forward(y, cache);
    y = middle_.forward(y, cache);
    return head2_->forward_cached(silu_in_place(head0_->forward(y)), cache);
}

Decoder3dImpl::Decoder3dImpl(int64_t z_dim, int64_t first_dim, int64_t last_dim, int64_t out_channels,
                             const std::vector<std::shared_ptr<VAELayer>>& upsamples) {
    conv1_ = register_module("conv1", CausalConv3d(z_dim, first_dim, K3{3, 3, 3}, K3{1, 1, 1}));
    add_middle(*this, middle_, first_dim);
    add_layers(*this, "upsamples", upsamples_, upsamples);
    auto head = holder(*this, "head");
    head0_ = head->register_module("0", VAERMSNorm(last_dim, /*images=*/false));
    head2_ = head->register_module("2", CausalConv3d(last_dim, out_channels, K3{3, 3, 3}, K3{1, 1, 1}));
}

torch::Tensor Decoder3dImpl::forward(const torch::Tensor& x, FeatureCache& cache) {
    torch::Tensor y = conv1_->forward_cached(x, cache);
    y = middle_.forward(y, cache);
    y = upsamples_.forward(y, cache);
    return head2_->forward_cached(silu_in_place(head0_->forward(y)), cache);
}

torch::Tensor encode_chunked(Encoder3dImpl& encoder, const CausalConv3dImpl& conv1, const torch::Tensor& x) {
    torch::NoGradGuard no_grad;
    const int64_t frames = x.size(2), chunks = 1 + (frames - 1) / 4;
    FeatureCache cache;
    std::vector<torch::Tensor> outs;
    outs.reserve(static_cast<size_t>(chunks));
    for (int64_t i = 0; i < chunks; ++i) {
        cache.begin_chunk(i == 0);
        const int64_t start = i == 0 ? 0 : 1 + 4 * (i - 1);
        const int64_t len = i == 0 ? 1 : std::min<int64_t>(4, frames - start);
        outs.push_back(encoder.forward(x.narrow(2, start, len), cache));  // [B, 2z, 1, h, w]
    }
    return conv1.forward(outs.size() == 1 ? outs.front() : torch::cat(outs, 2));
}

void decode_chunked(Decoder3dImpl& decoder, const CausalConv3dImpl& conv2, const torch::Tensor& z,
                    const FrameSink& sink) {
    torch::NoGradGuard no_grad;
    const torch::Tensor x = conv2.forward(z);  // [B, z, T, h, w]
    FeatureCache cache;
    for (int64_t i = 0; i < x.size(2); ++i) {
        cache.begin_chunk(i == 0);
        sink(decoder.forward(x.narrow(2, i, 1), cache));
    }
}

namespace {

/// Tile starts along one axis of `size` cells: step tile − overlap, the last tile flush with the end.
std::vector<int64_t> tile_starts(int64_t size, int64_t tile, int64_t overlap) {
    std::vector<int64_t> starts;
    if (tile >= size) return {0};
    const int64_t step = std::max<int64_t>(1, tile - overlap);
    for (int64_t s = 0;; s += step) {
        if (s + tile >= size) {
            starts.push_back(size - tile);
            break;
        }
        starts.push_back(s);
    }
    return starts;
}

/// Blend weights of a tile along one axis of `n` pixels: a linear ramp over `ramp` pixels on each side that
/// borders another tile, 1 elsewhere (never 0, so every pixel has weight).
torch::Tensor axis_weight(int64_t n, int64_t ramp, bool before, bool after) {
    torch::Tensor w = torch::ones({n});
    if (ramp <= 0) return w;
    const torch::Tensor up = (torch::arange(ramp, torch::kFloat32) + 0.5) / static_cast<double>(ramp);
    if (before) w.narrow(0, 0, ramp).copy_(up);
    if (after) w.narrow(0, n - ramp, ramp).copy_(up.flip(0));
    return w;
}

}  // namespace

void decode_chunked_tiled(Decoder3dImpl& decoder, const CausalConv3dImpl& conv2, const torch::Tensor& z,
                          int64_t tile, int64_t overlap, const FrameSink& sink) {
    torch::NoGradGuard no_grad;
    const int64_t h = z.size(3), w = z.size(4);
    if (tile <= 0 || (tile >= h && tile >= w)) return decode_chunked(decoder, conv2, z, sink);
    overlap = std::clamp<int64_t>(overlap, 0, tile / 2);
    const torch::Tensor x = conv2.forward(z);
    const std::vector<int64_t> ys = tile_starts(h, std::min(tile, h), overlap),
                               xs = tile_starts(w, std::min(tile, w), overlap);
    std::vector<FeatureCache> caches(ys.size() * xs.size());
    for (int64_t i = 0; i < x.size(2); ++i) {
        torch::Tensor acc, weight;
        int64_t scale = 0;
        size_t k = 0;
        for (size_t a = 0; a < ys.size(); ++a) {
            for (size_t b = 0; b < xs.size(); ++b, ++k) {
                const int64_t th = std::min(tile, h), tw = std::min(tile, w);
                caches[k].begin_chunk(i == 0);
                const torch::Tensor part =
                    decoder.forward(x.narrow(2, i, 1).narrow(3, ys[a], th).narrow(4, xs[b], tw), caches[k]);
                if (!acc.defined()) {  // [B, C, f, H, W] at the decoder's output scale
                    scale = part.size(3) / th;
                    acc = torch::zeros({part.size(0), part.size(1), part.size(2), h * scale, w * scale},
                                       part.options());
                    weight = torch::zeros({1, 1, 1, h * scale, w * scale}, part.options());
                }
                const int64_t ramp = overlap * scale;
                const torch::Tensor wy =
                    axis_weight(th * scale, ramp, a > 0, a + 1 < ys.size()).to(part.options());
                const torch::Tensor wx =
                    axis_weight(tw * scale, ramp, b > 0, b + 1 < xs.size()).to(part.options());
                const torch::Tensor wt =
                    (wy.view({-1, 1}) * wx.view({1, -1})).view({1, 1, 1, th * scale, tw * scale});
                acc.narrow(3, ys[a] * scale, th * scale).narrow(4, xs[b] * scale, tw * scale).add_(part * wt);
                weight.narrow(3, ys[a] * scale, th * scale).narrow(4, xs[b] * scale, tw * scale).add_(wt);
            }
        }
        sink(acc / weight);
    }
}

}  // namespace fl::inference::wan
