#include "inference/tensor_io.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

namespace fl::inference {
namespace {
namespace fs = std::filesystem;

class TensorIoTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = (fs::temp_directory_path() / "fl-tensor-io-XXXXXX").string();
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
        torch::manual_seed(0);
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    SafeTensorsFile write_and_open(const std::string& name, const std::vector<TensorBlob>& blobs) {
        const fs::path p = dir_ / name;
        EXPECT_TRUE(write_safetensors(p, blobs).ok());
        auto f = SafeTensorsFile::open(p);
        EXPECT_TRUE(f.ok()) << f.message();
        return std::move(f.value());
    }
    fs::path dir_;
};

/// "t7": built by appending (GCC 12 warns falsely on "t" + std::to_string(i)).
std::string numbered(const char* stem, size_t i) {
    std::string s = stem;
    s += std::to_string(i);
    return s;
}

/// Two layers under "blocks", so names look like checkpoint keys.
struct TinyNetImpl : torch::nn::Module {
    TinyNetImpl(int64_t in, int64_t hidden) {
        blocks = register_module("blocks", torch::nn::ModuleList());
        blocks->push_back(torch::nn::Linear(in, hidden));
        blocks->push_back(torch::nn::Linear(torch::nn::LinearOptions(hidden, in).bias(false)));
        scale = register_buffer("scale", torch::ones({in}));
    }
    torch::nn::ModuleList blocks{nullptr};
    torch::Tensor scale;
};
TORCH_MODULE(TinyNet);

TEST_F(TensorIoTest, ReadsEveryTorchDType) {
    const std::vector<torch::Tensor> tensors = {
        torch::randn({3, 4}),
        torch::randn({5}).to(torch::kFloat16),
        torch::randn({2, 3}).to(torch::kBFloat16),
        torch::randn({4}, torch::kFloat64),
        torch::arange(-3, 3, torch::kInt64),
        torch::arange(-3, 3, torch::kInt32),
        torch::arange(-3, 3, torch::kInt16),
        torch::arange(-3, 3, torch::kInt8),
        torch::arange(0, 250, 7, torch::kUInt8),
        torch::tensor({true, false, true}),
        torch::randn({0, 3}),
    };
    std::vector<TensorBlob> blobs;
    for (size_t i = 0; i < tensors.size(); ++i) blobs.push_back(to_blob(numbered("t", i), tensors[i]));
    const auto f = write_and_open("all.safetensors", blobs);
    for (size_t i = 0; i < tensors.size(); ++i) {
        auto t = read_tensor(f, numbered("t", i));
        ASSERT_TRUE(t.ok()) << t.message();
        EXPECT_EQ(t->scalar_type(), tensors[i].scalar_type()) << i;
        EXPECT_EQ(t->sizes(), tensors[i].sizes()) << i;
        EXPECT_TRUE(torch::equal(*t, tensors[i])) << i;
    }
    auto missing = read_tensor(f, "nope");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.message(), "tensor 'nope' not found in " + f.path().string());
}

TEST_F(TensorIoTest, BoolBytesOtherThanOneAreTrue) {
    const auto f = write_and_open("b.safetensors", {TensorBlob{"b", DType::Bool, {3}, {0, 1, 7}}});
    auto t = read_tensor(f, "b");
    ASSERT_TRUE(t.ok());
    EXPECT_TRUE(torch::equal(*t, torch::tensor({false, true, true})));
}

TEST_F(TensorIoTest, Fp8UpcastsToF32) {
    const std::vector<uint8_t> e4m3 = {0x38, 0x40, 0xB8, 0x7E, 0x01, 0x00, 0x3C, 0x7F};
    const std::vector<float> e4m3_expected = {1.0f, 2.0f, -1.0f, 448.0f, std::ldexp(1.0f, -9), 0.0f, 1.5f, NAN};
    const std::vector<uint8_t> e5m2 = {0x3C, 0x40, 0xBC, 0x7B, 0x01, 0x7C, 0xFC, 0x7D};
    const std::vector<float> e5m2_expected = {1.0f, 2.0f, -1.0f, 57344.0f, std::ldexp(1.0f, -16), INFINITY, -INFINITY, NAN};
    const auto f = write_and_open("f8.safetensors", {TensorBlob{"a", DType::F8_E4M3, {2, 4}, e4m3},
                                                     TensorBlob{"b", DType::F8_E5M2, {8}, e5m2}});
    auto a = read_tensor(f, "a");
    auto b = read_tensor(f, "b");
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->scalar_type(), torch::kFloat32);
    EXPECT_EQ(a->sizes(), torch::IntArrayRef({2, 4}));
    const float* pa = a->data_ptr<float>();
    const float* pb = b->data_ptr<float>();
    for (size_t i = 0; i < 8; ++i) {
        if (std::isnan(e4m3_expected[i])) {
            EXPECT_TRUE(std::isnan(pa[i])) << i;
        } else {
            EXPECT_EQ(pa[i], e4m3_expected[i]) << i;
        }
        if (std::isnan(e5m2_expected[i])) {
            EXPECT_TRUE(std::isnan(pb[i])) << i;
        } else {
            EXPECT_EQ(pb[i], e5m2_expected[i]) << i;
        }
    }
}

TEST_F(TensorIoTest, ModuleRoundTripWithPrefixAndDTypeConversion) {
    TinyNet src(4, 6);
    std::vector<TensorBlob> blobs;
    for (auto& b : module_blobs(*src, "model.")) {
        // Store the weights as bf16-representable values in F16 to check conversion on load.
        blobs.push_back(b);
    }
    ASSERT_EQ(blobs.size(), 4u);  // blocks.0.weight, blocks.0.bias, blocks.1.weight, scale
    EXPECT_NE(std::find_if(blobs.begin(), blobs.end(), [](const TensorBlob& b) { return b.name == "model.blocks.0.weight"; }),
              blobs.end());
    const auto f = write_and_open("m.safetensors", blobs);
    TinyNet dst(4, 6);
    ASSERT_TRUE(load_module(*dst, f, "model.").ok());
    for (const auto& item : src->named_parameters()) EXPECT_TRUE(torch::equal(item.value(), dst->named_parameters()[item.key()]));

    // Half-precision file into an fp32 model.
    std::vector<TensorBlob> half;
    for (const auto& item : src->named_parameters()) half.push_back(to_blob(item.key(), item.value().to(torch::kFloat16)));
    half.push_back(to_blob("scale", torch::full({4}, 2.0)));
    const auto fh = write_and_open("h.safetensors", half);
    TinyNet dh(4, 6);
    ASSERT_TRUE(load_module(*dh, fh).ok());
    EXPECT_EQ(dh->blocks->ptr<torch::nn::LinearImpl>(0)->weight.scalar_type(), torch::kFloat32);
    EXPECT_TRUE(torch::allclose(dh->blocks->ptr<torch::nn::LinearImpl>(0)->weight,
                                src->blocks->ptr<torch::nn::LinearImpl>(0)->weight, 1e-3, 1e-3));
    EXPECT_TRUE(torch::equal(dh->scale, torch::full({4}, 2.0f)));
}

TEST_F(TensorIoTest, ShapeMismatchNamesTheKey) {
    TinyNet big(64, 256);
    std::vector<TensorBlob> blobs = module_blobs(*TinyNet(64, 128));
    const auto f = write_and_open("s.safetensors", blobs);
    auto r = load_module(*big, f);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.message(), "weights do not fit the model: 'blocks.0.weight' is [128,64] in the file, the model expects [256,64]");
}

TEST_F(TensorIoTest, MissingAndUnexpectedKeys) {
    TinyNet net(4, 6);
    std::vector<TensorBlob> blobs = module_blobs(*net);
    blobs.erase(std::remove_if(blobs.begin(), blobs.end(), [](const TensorBlob& b) { return b.name == "blocks.1.weight"; }),
                blobs.end());
    const auto f = write_and_open("miss.safetensors", blobs);
    auto r = load_module(*net, f);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find("'blocks.1.weight' is missing from " + f.path().string()), std::string::npos) << r.message();

    std::vector<TensorBlob> extra = module_blobs(*net);
    extra.push_back(to_blob("blocks.2.weight", torch::zeros({2})));
    const auto fe = write_and_open("extra.safetensors", extra);
    auto strict = load_module(*net, fe, "", /*strict=*/true);
    ASSERT_FALSE(strict.ok());
    EXPECT_NE(strict.message().find("'blocks.2.weight'"), std::string::npos) << strict.message();
    EXPECT_TRUE(load_module(*net, fe, "", /*strict=*/false).ok());
}

}  // namespace
}  // namespace fl::inference
