#include "frameloom/inference/safetensors.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>

namespace fl::inference {
namespace {
namespace fs = std::filesystem;

class SafeTensorsTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = (fs::temp_directory_path() / "fl-safetensors-XXXXXX").string();
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    /// A file with a hand-written header followed by `data_bytes` bytes of data.
    fs::path raw(const std::string& name, const std::string& header, size_t data_bytes) {
        std::string bytes(8, '\0');
        const uint64_t n = header.size();
        for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((n >> (8 * i)) & 0xff);
        bytes += header;
        bytes.append(data_bytes, '\x01');
        return write_bytes(name, bytes);
    }
    fs::path write_bytes(const std::string& name, const std::string& bytes) {
        const fs::path p = dir_ / name;
        std::ofstream(p, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        return p;
    }
    static std::string read_bytes(const fs::path& p) {
        std::ifstream in(p, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }
    /// Opening must fail with a message containing every part.
    static void expect_error(const fs::path& p, std::initializer_list<const char*> parts) {
        auto f = SafeTensorsFile::open(p);
        ASSERT_FALSE(f.ok()) << p;
        for (const char* part : parts) EXPECT_NE(f.message().find(part), std::string::npos) << f.message();
        EXPECT_NE(f.message().find(p.string()), std::string::npos) << f.message();
        EXPECT_EQ(f.message().find('\n'), std::string::npos) << f.message();
    }

    fs::path dir_;
};

/// "t7": built by appending (GCC 12 warns falsely on "t" + std::to_string(i)).
std::string numbered(const char* stem, size_t i) {
    std::string s = stem;
    s += std::to_string(i);
    return s;
}

TensorBlob blob(const std::string& name, DType dtype, std::vector<int64_t> shape, uint8_t fill) {
    TensorBlob b{name, dtype, std::move(shape), {}};
    int64_t n = 1;
    for (const auto d : b.shape) n *= d;
    b.bytes.resize(static_cast<size_t>(n) * dtype_size(dtype));
    for (size_t i = 0; i < b.bytes.size(); ++i) b.bytes[i] = static_cast<uint8_t>(fill + i);
    return b;
}

TEST_F(SafeTensorsTest, RoundTripsEveryDTypeWithMetadata) {
    const std::vector<DType> all = {DType::F32, DType::F16, DType::BF16, DType::F64, DType::I64,    DType::I32,
                                    DType::I16, DType::I8,  DType::U8,   DType::Bool, DType::F8_E4M3, DType::F8_E5M2};
    std::vector<TensorBlob> blobs;
    for (size_t i = 0; i < all.size(); ++i)
        blobs.push_back(blob(numbered("t", 100 - i), all[i], {3, static_cast<int64_t>(i + 1)}, static_cast<uint8_t>(i)));
    blobs.push_back(blob("empty", DType::F32, {0, 4}, 0));
    blobs.push_back(blob("scalar", DType::F32, {}, 7));
    const fs::path p = dir_ / "all.safetensors";
    ASSERT_TRUE(write_safetensors(p, blobs, {{"config", "{\"a\": 1}"}, {"component", "x"}}).ok());

    const std::string bytes = read_bytes(p);
    uint64_t n = 0;
    std::memcpy(&n, bytes.data(), 8);
    EXPECT_EQ((8 + n) % 8, 0u) << "data section must start 8-byte aligned";

    auto f = SafeTensorsFile::open(p);
    ASSERT_TRUE(f.ok()) << f.message();
    EXPECT_EQ(f->tensors().size(), blobs.size());
    EXPECT_EQ(f->metadata().at("config"), "{\"a\": 1}");
    EXPECT_EQ(f->metadata().at("component"), "x");
    for (const auto& b : blobs) {
        const TensorInfo* info = f->find(b.name);
        ASSERT_NE(info, nullptr) << b.name;
        EXPECT_EQ(info->dtype, b.dtype);
        EXPECT_EQ(info->shape, b.shape);
        ASSERT_EQ(info->nbytes, b.bytes.size());
        if (!b.bytes.empty()) {
            EXPECT_EQ(std::memcmp(f->data(*info), b.bytes.data(), b.bytes.size()), 0) << b.name;
        }
    }
    EXPECT_EQ(f->find("nope"), nullptr);
    // Header entries are sorted by name; data follows in the same order.
    std::vector<TensorInfo> infos = f->tensors();
    std::sort(infos.begin(), infos.end(), [](const TensorInfo& a, const TensorInfo& b) { return a.name < b.name; });
    for (size_t i = 1; i < infos.size(); ++i) EXPECT_EQ(infos[i].offset, infos[i - 1].offset + infos[i - 1].nbytes);

    SafeTensorsFile moved = std::move(f.value());
    EXPECT_EQ(moved.tensors().size(), blobs.size());
}

TEST_F(SafeTensorsTest, WriterRejectsInconsistentBlobs) {
    TensorBlob b = blob("x", DType::F32, {2, 2}, 0);
    b.bytes.pop_back();
    EXPECT_FALSE(write_safetensors(dir_ / "bad.safetensors", {b}).ok());
    EXPECT_FALSE(write_safetensors(dir_ / "dup.safetensors", {blob("x", DType::U8, {1}, 0), blob("x", DType::U8, {1}, 0)}).ok());
    EXPECT_FALSE(fs::exists(dir_ / "bad.safetensors"));
}

TEST_F(SafeTensorsTest, MissingFile) { expect_error(dir_ / "none.safetensors", {"missing"}); }

TEST_F(SafeTensorsTest, TooShort) { expect_error(write_bytes("short", "abc"), {"truncated", "re-download"}); }

TEST_F(SafeTensorsTest, AbsurdHeaderLength) {
    std::string bytes(8, '\xff');
    bytes += "{}";
    expect_error(write_bytes("huge", bytes), {"header"});
}

TEST_F(SafeTensorsTest, HeaderLongerThanFile) {
    std::string bytes = {'\x40', 0, 0, 0, 0, 0, 0, 0};
    bytes += "{}";
    expect_error(write_bytes("long", bytes), {"truncated"});
}

TEST_F(SafeTensorsTest, NotJson) { expect_error(raw("nj", "{\"a\": [1, 2", 0), {"JSON"}); }

TEST_F(SafeTensorsTest, NotAnObject) {
    expect_error(raw("arr", "[1, 2, 3]", 0), {"object"});
    expect_error(raw("ent", "{\"a\": 3}", 0), {"'a'", "object"});
}

TEST_F(SafeTensorsTest, DeepNesting) { expect_error(raw("deep", std::string(5000, '[') + std::string(5000, ']'), 0), {"nested"}); }

TEST_F(SafeTensorsTest, UnknownDType) {
    expect_error(raw("dt", R"({"a": {"dtype": "F7", "shape": [1], "data_offsets": [0, 1]}})", 1), {"F7", "'a'"});
}

TEST_F(SafeTensorsTest, SizeMismatch) {
    expect_error(raw("sz", R"({"a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 20]}})", 24), {"'a'", "24 bytes"});
}

TEST_F(SafeTensorsTest, LyingHeaderIsTruncated) {
    const auto p = raw("lie", R"({"a": {"dtype": "F32", "shape": [1000, 1000], "data_offsets": [0, 4000000]}})", 100);
    auto f = SafeTensorsFile::open(p);
    ASSERT_FALSE(f.ok());
    EXPECT_EQ(f.message(), "model file truncated: " + p.string() +
                               " header says 4.0 MB of tensor data, file holds 100 bytes (re-download it)");
}

TEST_F(SafeTensorsTest, OverlappingOffsets) {
    expect_error(raw("ov", R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                              "b": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}})", 16),
                 {"overlap", "'a'", "'b'"});
}

TEST_F(SafeTensorsTest, NegativeOrReversedOffsets) {
    expect_error(raw("neg", R"({"a": {"dtype": "U8", "shape": [4], "data_offsets": [-4, 0]}})", 16), {"'a'"});
    expect_error(raw("rev", R"({"a": {"dtype": "U8", "shape": [4], "data_offsets": [8, 4]}})", 16), {"'a'"});
    expect_error(raw("negshape", R"({"a": {"dtype": "U8", "shape": [-4], "data_offsets": [0, 4]}})", 16), {"'a'"});
    expect_error(raw("float", R"({"a": {"dtype": "U8", "shape": [4.5], "data_offsets": [0, 4]}})", 16), {"'a'"});
}

TEST_F(SafeTensorsTest, NumelOverflow) {
    expect_error(raw("of", R"({"a": {"dtype": "F32", "shape": [4294967296, 4294967296, 16], "data_offsets": [0, 0]}})", 0),
                 {"'a'", "too large"});
    expect_error(raw("of2", R"({"a": {"dtype": "F64", "shape": [2305843009213693952], "data_offsets": [0, 0]}})", 0),
                 {"'a'"});
}

TEST_F(SafeTensorsTest, MetadataMustBeStrings) {
    expect_error(raw("md", R"({"__metadata__": {"a": 1}})", 0), {"__metadata__"});
    expect_error(raw("md2", R"({"__metadata__": [1]})", 0), {"__metadata__"});
}

TEST_F(SafeTensorsTest, MissingFields) {
    expect_error(raw("nf", R"({"a": {"shape": [1], "data_offsets": [0, 1]}})", 1), {"dtype"});
    expect_error(raw("nf2", R"({"a": {"dtype": "U8", "data_offsets": [0, 1]}})", 1), {"shape"});
    expect_error(raw("nf3", R"({"a": {"dtype": "U8", "shape": [1], "data_offsets": [0]}})", 1), {"data_offsets"});
}

// Hostile input: every mutation of a valid file either opens with all tensors inside the file, or fails cleanly.
TEST_F(SafeTensorsTest, RandomMutationsNeverCrash) {
    const fs::path good = dir_ / "good.safetensors";
    ASSERT_TRUE(write_safetensors(good, {blob("alpha", DType::F32, {3, 4}, 1), blob("beta", DType::BF16, {5}, 2),
                                         blob("gamma", DType::I64, {2, 2}, 3), blob("delta", DType::U8, {7}, 4)},
                                  {{"config", "{\"dim\": 64}"}})
                    .ok());
    const std::string original = read_bytes(good);
    uint64_t header_len = 0;
    std::memcpy(&header_len, original.data(), 8);
    std::mt19937 rng(1234);
    int opened = 0, failed = 0;
    for (int iter = 0; iter < 500; ++iter) {
        std::string bytes = original;
        const int kind = static_cast<int>(rng() % 4);
        if (kind == 0) {
            bytes.resize(rng() % bytes.size());  // truncate
        } else {
            const int flips = 1 + static_cast<int>(rng() % 4);
            for (int k = 0; k < flips; ++k) {
                // Mostly hit the length and header, where the parser lives.
                const size_t span = kind == 1 ? 8 + header_len : bytes.size();
                const size_t at = rng() % span;
                if (kind == 3) bytes[at] = "0123456789{}[]\",:-e.\\ "[rng() % 22];
                else bytes[at] = static_cast<char>(bytes[at] ^ (1 << (rng() % 8)));
            }
        }
        const fs::path p = write_bytes("m.safetensors", bytes);
        auto f = SafeTensorsFile::open(p);
        if (f.ok()) {
            ++opened;
            // Touch every byte the header claims: a lie that escaped validation would fault here.
            uint32_t sum = 0;
            for (const auto& t : f->tensors())
                for (uint64_t i = 0; i < t.nbytes; ++i) sum += f->data(t)[i];
            ::testing::Test::RecordProperty("sum", static_cast<int>(sum & 0xff));
        } else {
            ++failed;
            EXPECT_FALSE(f.message().empty());
            EXPECT_EQ(f.message().find('\n'), std::string::npos);
        }
    }
    EXPECT_GT(failed, 0);
    EXPECT_EQ(opened + failed, 500);
}

}  // namespace
}  // namespace fl::inference
