#pragma once
/// Building blocks shared by the Wan2.1 and Wan2.2 VAEs (reference/wan.md §3): CausalConv3d with the
/// chunk feature cache, RMS_norm, ResidualBlock, AttentionBlock, Resample, the Encoder3d/Decoder3d
/// skeletons (conv1, stages, middle, head) and the chunked causal encode/decode loops. Module names are
/// the checkpoint keys.

#include <torch/torch.h>

#include <array>
#include <functional>
#include <memory>
#include <vector>

namespace fl::inference::wan {

/// One slot of the chunk cache: empty, the up3d "Rep" marker, or the cached frames.
struct CacheSlot {
    enum class State { Empty, Rep, Frames };
    State state = State::Empty;
    torch::Tensor frames;  ///< [B, C, ≤2, H, W] when state == Frames
};

/// The feature cache of one chunked pass: a slot per cached conv call, indexed by call order within a chunk.
struct FeatureCache {
    std::vector<CacheSlot> slots;
    size_t index = 0;          ///< next slot of the current chunk
    bool first_chunk = false;  ///< Wan2.2 DupUp3D drops its leading frames on the first decoded chunk

    /// The slot for the next cached call (grown on demand).
    CacheSlot& next();
    /// Starts a new chunk: the call counter goes back to slot 0.
    void begin_chunk(bool first) {
        index = 0;
        first_chunk = first;
    }
};

/// A layer of an encoder/decoder stage list; every layer sees the chunk's cache.
class VAELayer : public torch::nn::Module {
public:
    /// x: [B, C, T, H, W] of one chunk → the layer's output for that chunk.
    virtual torch::Tensor forward(const torch::Tensor& x, FeatureCache& cache) = 0;
};

/// Conv3d with padding 2·pt frames at the front only (none at the end) and pw/ph on both sides.
/// weight [Co, Ci, kt, kh, kw], bias [Co].
class CausalConv3dImpl : public torch::nn::Module {
public:
    CausalConv3dImpl(int64_t in, int64_t out, std::array<int64_t, 3> kernel, std::array<int64_t, 3> padding,
                     std::array<int64_t, 3> stride = {1, 1, 1});
    /// x: [B, Ci, T, H, W]; `cache` (frames preceding x, may be undefined) replaces that many front pad
    /// frames.
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cache = {}) const;
    /// The reference's cached call: runs on cat(cache, x), then the slot keeps x's last 2 frames (with the
    /// old slot's last frame prepended when x has a single frame).
    torch::Tensor forward_cached(const torch::Tensor& x, FeatureCache& cache) const;
    torch::Tensor weight, bias;

private:
    std::array<int64_t, 3> padding_, stride_;
};
TORCH_MODULE(CausalConv3d);

/// RMS_norm: L2-normalise over channels (eps 1e-12), ×√C, ×gamma. gamma [C,1,1,1] (video) or [C,1,1]
/// (images).
class VAERMSNormImpl : public torch::nn::Module {
public:
    VAERMSNormImpl(int64_t dim, bool images);
    /// x: [B, C, ...] → same shape
    torch::Tensor forward(const torch::Tensor& x) const;
    torch::Tensor gamma;

private:
    double scale_;
};
TORCH_MODULE(VAERMSNorm);

/// RMS → SiLU → CConv3d(in,out,3) → RMS → SiLU → CConv3d(out,out,3), plus the 1×1×1 `shortcut` when in ≠ out.
/// Keys: residual.{0,3}.gamma, residual.{2,6}.{weight,bias}, shortcut.{weight,bias}.
class ResidualBlock : public VAELayer {
public:
    ResidualBlock(int64_t in, int64_t out);
    torch::Tensor forward(const torch::Tensor& x, FeatureCache& cache) override;

private:
    VAERMSNorm norm0_{nullptr}, norm3_{nullptr};
    CausalConv3d conv2_{nullptr}, conv6_{nullptr}, shortcut_{nullptr};
};

/// Conv2d weights [Co, Ci, k, k] and bias [Co] (resample.1, to_qkv, proj), run per frame.
class VAEConv2dImpl : public torch::nn::Module {
public:
    VAEConv2dImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding);
    /// x: [N, Ci, H, W] → [N, Co, H', W']
    torch::Tensor forward(const torch::Tensor& x) const;
    torch::Tensor weight, bias;

private:
    int64_t stride_, padding_;
};
TORCH_MODULE(VAEConv2d);

/// Per-frame single-head self-attention over h·w (scale 1/√C), plus the identity. Keys: norm.gamma,
/// to_qkv.{weight,bias}, proj.{weight,bias}.
class AttentionBlock : public VAELayer {
public:
    explicit AttentionBlock(int64_t dim);
    torch::Tensor forward(const torch::Tensor& x, FeatureCache& cache) override;

private:
    VAERMSNorm norm_{nullptr};
    VAEConv2d to_qkv_{nullptr}, proj_{nullptr};
};

/// Spatial (and temporal) resampling. Keys: resample.1.{weight,bias}, time_conv.{weight,bias} (3d modes).
class Resample : public VAELayer {
public:
    enum class Mode { Upsample2d, Upsample3d, Downsample2d, Downsample3d };
    /// `out` is the spatial conv's output width: C/2 for Wan2.1 upsampling, C for Wan2.2 and downsampling.
    Resample(int64_t dim, int64_t out, Mode mode);
    torch::Tensor forward(const torch::Tensor& x, FeatureCache& cache) override;
    Mode mode() const { return mode_; }

private:
    Mode mode_;
    VAEConv2d conv_{nullptr};  // resample.1
    CausalConv3d time_conv_{nullptr};
};

/// A list of layers registered as "0", "1", … under the owner (nn.Sequential keys).
class LayerList {
public:
    void push_back(torch::nn::ModuleListImpl& list, std::shared_ptr<VAELayer> layer);
    torch::Tensor forward(torch::Tensor x, FeatureCache& cache) const;
    size_t size() const { return layers_.size(); }

private:
    std::vector<std::shared_ptr<VAELayer>> layers_;
};

/// Encoder3d: conv1 (in→dims[0], k3), `downsamples` (built by the caller), middle (Res, Attn, Res),
/// head (RMS, SiLU, CConv3d → z_out).
class Encoder3dImpl : public torch::nn::Module {
public:
    Encoder3dImpl(int64_t in_channels, int64_t first_dim, int64_t last_dim, int64_t z_out,
                  const std::vector<std::shared_ptr<VAELayer>>& downsamples);
    /// One chunk x: [B, in, t, H, W] → [B, z_out, t', H/8, W/8]
    torch::Tensor forward(const torch::Tensor& x, FeatureCache& cache);

private:
    CausalConv3d conv1_{nullptr}, head2_{nullptr};
    VAERMSNorm head0_{nullptr};
    LayerList downsamples_, middle_;
};
TORCH_MODULE(Encoder3d);

/// Decoder3d: conv1 (z→first_dim, k3), middle (Res, Attn, Res), `upsamples` (built by the caller), head
/// (RMS, SiLU, CConv3d → out_channels).
class Decoder3dImpl : public torch::nn::Module {
public:
    Decoder3dImpl(int64_t z_dim, int64_t first_dim, int64_t last_dim, int64_t out_channels,
                  const std::vector<std::shared_ptr<VAELayer>>& upsamples);
    /// One latent frame x: [B, z, 1, h, w] → [B, out_channels, 1 or 4, 8h, 8w]
    torch::Tensor forward(const torch::Tensor& x, FeatureCache& cache);

private:
    CausalConv3d conv1_{nullptr}, head2_{nullptr};
    VAERMSNorm head0_{nullptr};
    LayerList middle_, upsamples_;
};
TORCH_MODULE(Decoder3d);

/// Receives one decoded chunk of frames [B, C, f, H, W] at a time.
using FrameSink = std::function<void(const torch::Tensor&)>;

/// The reference's chunked causal encode: frames [1], [4], [4], … through `encoder` with one persistent
/// cache (trailing frames that do not fill a chunk are dropped), then `conv1` on all chunk outputs.
/// x: [B, C, F, H, W] → conv1 output [B, 2z, T, h, w].
torch::Tensor encode_chunked(Encoder3dImpl& encoder, const CausalConv3dImpl& conv1, const torch::Tensor& x);

/// The reference's chunked decode: `conv2` on all of z, then the decoder on one latent frame at a time with
/// its own cache (first_chunk set for frame 0); each chunk's output goes to `sink` as soon as it is made.
void decode_chunked(Decoder3dImpl& decoder, const CausalConv3dImpl& conv2, const torch::Tensor& z,
                    const FrameSink& sink);

/// decode_chunked over spatial tiles of `tile` × `tile` latent cells overlapping by `overlap` cells, each
/// with its own cache, run in lockstep latent frame by latent frame and blended linearly across the overlaps,
/// so the decoder's activations are a tile's, not the frame's. Not bit-identical to the whole-frame decode:
/// each tile's convolutions and the decoder's attention see only the tile. `tile` ≥ the latent's size:
/// untiled.
void decode_chunked_tiled(Decoder3dImpl& decoder, const CausalConv3dImpl& conv2, const torch::Tensor& z,
                          int64_t tile, int64_t overlap, const FrameSink& sink);

}  // namespace fl::inference::wan
