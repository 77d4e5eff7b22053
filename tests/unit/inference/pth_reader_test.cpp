#include "inference/pth_reader.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <random>

#include "inference/pickle_vm.h"
#include "inference/tensor_io.h"
#include "inference/zip_reader.h"
#include "support/pth_writer.h"

namespace fl::inference {
namespace {
namespace fs = std::filesystem;
using test::archive;
using test::Bytes;
using test::make_zip;
using test::Pickler;
using test::put16;
using test::put32;
using test::raw;
using test::ZipEntryIn;

/// The reference checkpoint: f32 "w" [2,3], its transpose "wt" (non-contiguous view of the same storage),
/// "tail" (offset 4 into it), bf16 "b" [4], f16 "h" [3], plus an _metadata BUILD like a real state_dict.
struct Reference {
    torch::Tensor f32 = torch::arange(6, torch::kFloat32).mul(0.5).sub(1);
    torch::Tensor bf16 = torch::tensor({1.5f, -2.0f, 0.25f, 8.0f}).to(torch::kBFloat16);
    torch::Tensor f16 = torch::tensor({0.5f, -0.125f, 3.0f}).to(torch::kFloat16);
    Bytes pickle() const {
        Pickler p;
        p.proto().ordered_dict().op('(');
        p.str("w").tensor("Float", "0", 6, 0, {2, 3}, {3, 1});
        p.str("wt").tensor("Float", "0", 6, 0, {3, 2}, {1, 3});
        p.str("tail").tensor("Float", "0", 6, 4, {2}, {1});
        p.str("b").tensor("BFloat16", "1", 4, 0, {4}, {1});
        p.str("h").tensor("Half", "2", 3, 0, {3}, {1});
        p.op('u');
        p.op('}').put().str("_metadata").ordered_dict().str("").op('}').put().str("version").integer(1).op('s');
        p.op('s').op('s').op('b');
        return p.stop().b;
    }
    Bytes bytes() const {
        return archive(pickle(), {{"0", raw<float>(f32)}, {"1", raw<uint16_t>(bf16)}, {"2", raw<uint16_t>(f16)}});
    }
};

void expect_error(const Bytes& zip, const std::string& needle) {
    auto f = PthFile::from_memory(zip.data(), zip.size());
    ASSERT_FALSE(f.ok());
    EXPECT_NE(f.message().find(needle), std::string::npos) << f.message();
    EXPECT_EQ(f.message().find('\n'), std::string::npos) << "errors are one line";
}

TEST(PthReader, ReadsOrderedDictWithViewsAndDTypes) {
    const Reference ref;
    const Bytes zip = ref.bytes();
    auto f = PthFile::from_memory(zip.data(), zip.size());
    ASSERT_TRUE(f.ok()) << f.message();
    ASSERT_EQ(f->tensors().size(), 5u);
    EXPECT_EQ(f->tensors()[0].name, "w");
    EXPECT_EQ(f->tensors()[3].dtype, DType::BF16);
    EXPECT_EQ(f->tensors()[4].dtype, DType::F16);
    const auto w = f->read("w");
    ASSERT_TRUE(w.ok()) << w.message();
    EXPECT_TRUE(torch::equal(*w, ref.f32.view({2, 3})));
    const auto wt = f->read("wt");
    ASSERT_TRUE(wt.ok());
    EXPECT_TRUE(wt->is_contiguous());
    EXPECT_TRUE(torch::equal(*wt, ref.f32.view({2, 3}).t()));
    const auto tail = f->read("tail");
    ASSERT_TRUE(tail.ok());
    EXPECT_TRUE(torch::equal(*tail, ref.f32.slice(0, 4)));
    const auto b = f->read("b");
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b->scalar_type(), torch::kBFloat16);
    EXPECT_TRUE(torch::equal(*b, ref.bf16));
    const auto h = f->read("h");
    ASSERT_TRUE(h.ok());
    EXPECT_TRUE(torch::equal(*h, ref.f16));
    EXPECT_FALSE(f->read("nope").ok());
}

TEST(PthReader, FlattensNestedDictsAndUnwrapsStateDict) {
    const Bytes s0 = raw<float>(torch::ones({2}));
    for (const char* wrapper : {"state_dict", "model"}) {
        Pickler p;
        p.proto().op('}').put().op('(');
        p.str("epoch").integer(7);
        p.str(wrapper).op('}').put().op('(');
        p.str("enc").op('}').put().str("w").tensor("Float", "0", 2, 0, {2}, {1}).op('s');
        p.str("b").tensor("Float", "0", 2, 1, {1}, {1});
        p.op('u').op('u').stop();
        const Bytes zip = archive(p.b, {{"0", s0}});
        auto f = PthFile::from_memory(zip.data(), zip.size());
        ASSERT_TRUE(f.ok()) << f.message();
        ASSERT_EQ(f->tensors().size(), 2u);
        EXPECT_EQ(f->tensors()[0].name, "enc.w");
        EXPECT_EQ(f->tensors()[1].name, "b");
    }
}

TEST(PthReader, ReadsMemoisedGlobalsAndProtocol4) {
    // Real pickles fetch repeated globals and strings from the memo (BINGET); protocol 4 adds FRAME, MEMOIZE,
    // SHORT_BINUNICODE and STACK_GLOBAL.
    const Bytes s0 = raw<float>(torch::arange(4, torch::kFloat32));
    Bytes p = {0x80, 4, 0x95, 0, 0, 0, 0, 0, 0, 0, 0, '}', 0x94, '('};
    auto sstr = [&](const std::string& v) {
        p.push_back(0x8c);
        p.push_back(static_cast<uint8_t>(v.size()));
        p.insert(p.end(), v.begin(), v.end());
        p.push_back(0x94);
    };
    // memo: 0 = root dict, 1 = "a", 2 = "torch._utils", 3 = "_rebuild_tensor_v2", 4 = global, 5 = "storage",
    // 6 = "torch", 7 = "FloatStorage", 8 = storage global, 9 = "0", 10 = "cpu"
    sstr("a");
    sstr("torch._utils");
    sstr("_rebuild_tensor_v2");
    p.insert(p.end(), {0x93, 0x94, '(', '('});
    sstr("storage");
    sstr("torch");
    sstr("FloatStorage");
    p.insert(p.end(), {0x93, 0x94});
    sstr("0");
    sstr("cpu");
    p.insert(p.end(), {'K', 4, 't', 'Q', 'K', 0, 'K', 4, 0x85, 'K', 1, 0x85, 0x89, ')', 't', 'R'});
    // "b": the same function, storage type and key via BINGET, a view of the last two elements.
    sstr("b");
    p.insert(p.end(), {'h', 4, '(', '(', 'h', 5, 'h', 8, 'h', 9, 'h', 10, 'K', 4, 't', 'Q', 'K', 2, 'K', 2, 0x85,
                       'K', 1, 0x85, 0x89, ')', 't', 'R', 'u', '.'});
    const Bytes zip = archive(p, {{"0", s0}});
    auto f = PthFile::from_memory(zip.data(), zip.size());
    ASSERT_TRUE(f.ok()) << f.message();
    ASSERT_EQ(f->tensors().size(), 2u);
    const auto b = f->read("b");
    ASSERT_TRUE(b.ok()) << b.message();
    EXPECT_TRUE(torch::equal(*b, torch::tensor({2.0f, 3.0f})));
}

TEST(PthReader, ReadsZip64Directories) {
    // Rewrite a small archive's end records as ZIP64 (what torch writes past 4 GB): saturated EOCD fields,
    // a ZIP64 record and locator, and 64-bit sizes/offsets in each central entry's extra field.
    const Reference ref;
    const Bytes plain = ref.bytes();
    const auto zip = ZipReader::from_memory(plain.data(), plain.size(), "x");
    ASSERT_TRUE(zip.ok());
    const uint8_t* e = plain.data() + plain.size() - 22;
    const uint32_t cd_off = e[16] | (e[17] << 8) | (e[18] << 16) | (static_cast<uint32_t>(e[19]) << 24);
    const uint16_t count = static_cast<uint16_t>(e[10] | (e[11] << 8));
    Bytes out(plain.begin(), plain.begin() + cd_off);
    Bytes central;
    size_t p = cd_off;
    for (uint16_t i = 0; i < count; ++i) {
        const uint8_t* c = plain.data() + p;
        const uint16_t name_len = static_cast<uint16_t>(c[28] | (c[29] << 8));
        const size_t start = central.size();
        central.insert(central.end(), c, c + 46 + name_len);
        const uint64_t size = c[20] | (c[21] << 8) | (c[22] << 16) | (static_cast<uint64_t>(c[23]) << 24);
        const uint64_t local = c[42] | (c[43] << 8) | (c[44] << 16) | (static_cast<uint64_t>(c[45]) << 24);
        for (size_t k : {size_t{20}, size_t{24}, size_t{42}}) std::memset(&central[start + k], 0xFF, 4);
        central[start + 30] = 28;  // extra length
        central[start + 31] = 0;
        put16(central, 1);
        put16(central, 24);
        for (uint64_t v : {size, size, local}) {
            put32(central, static_cast<uint32_t>(v));
            put32(central, static_cast<uint32_t>(v >> 32));
        }
        p += 46 + name_len;
    }
    const uint64_t new_cd = out.size();
    out.insert(out.end(), central.begin(), central.end());
    const uint64_t z64 = out.size();
    auto put64 = [&](uint64_t v) {
        put32(out, static_cast<uint32_t>(v));
        put32(out, static_cast<uint32_t>(v >> 32));
    };
    put32(out, 0x06064b50);
    put64(44);
    put16(out, 45);
    put16(out, 45);
    put32(out, 0);
    put32(out, 0);
    put64(count);
    put64(count);
    put64(central.size());
    put64(new_cd);
    put32(out, 0x07064b50);
    put32(out, 0);
    put64(z64);
    put32(out, 1);
    put32(out, 0x06054b50);
    put32(out, 0);
    put16(out, 0xFFFF);
    put16(out, 0xFFFF);
    put32(out, 0xFFFFFFFF);
    put32(out, 0xFFFFFFFF);
    put16(out, 0);
    auto f = PthFile::from_memory(out.data(), out.size());
    ASSERT_TRUE(f.ok()) << f.message();
    const auto w = f->read("wt");
    ASSERT_TRUE(w.ok());
    EXPECT_TRUE(torch::equal(*w, ref.f32.view({2, 3}).t()));
    // A locator pointing past the end is an error.
    Bytes broken = out;
    broken[broken.size() - 22 - 20 + 8] = 0xEE;
    broken[broken.size() - 22 - 20 + 12] = 0x01;
    EXPECT_FALSE(PthFile::from_memory(broken.data(), broken.size()).ok());
}

TEST(PthReader, RefusesUnsafeGlobals) {
    for (const auto& [module, name] : std::vector<std::pair<std::string, std::string>>{
             {"os", "system"}, {"builtins", "eval"}, {"posix", "system"}, {"torch", "load"}}) {
        Pickler p;
        p.proto().global(module, name).str("echo pwned").op(0x85).op('R').stop();
        expect_error(archive(p.b, {}), "refuses global '" + module + "." + name + "'");
    }
    Pickler stack_global;  // protocol 4 spelling
    stack_global.op(0x80).op(4).str("os").str("system").op(0x93).str("id").op(0x85).op('R').stop();
    expect_error(archive(stack_global.b, {}), "refuses global 'os.system'");
    Pickler storage_call;  // an allowed name that is not callable
    storage_call.proto().global("torch", "FloatStorage").op(')').op('R').stop();
    expect_error(archive(storage_call.b, {}), "cannot be called");
}

TEST(PthReader, RejectsDamagedArchives) {
    const Reference ref;
    const Bytes good = ref.bytes();
    for (size_t cut : {size_t{0}, size_t{10}, good.size() / 2, good.size() - 30, good.size() - 1}) {
        const Bytes t(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut));
        auto f = PthFile::from_memory(t.data(), t.size());
        EXPECT_FALSE(f.ok()) << "cut at " << cut;
    }
    // A flipped byte inside data.pkl fails its CRC.
    Bytes bad_crc = good;
    bad_crc[64 + 3] ^= 0x40;
    expect_error(bad_crc, "CRC");
    // A storage CRC mismatch is found when storages are verified.
    Bytes bad_storage = good;
    const auto zip = ZipReader::from_memory(good.data(), good.size(), "x");
    ASSERT_TRUE(zip.ok());
    bad_storage[zip->find("archive/data/1")->data_offset] ^= 1;
    expect_error(bad_storage, "CRC");
    // A directory that claims more bytes than the file has.
    std::vector<ZipEntryIn> entries = {{"archive/data.pkl", ref.pickle()}};
    Bytes lying = make_zip(entries);
    const size_t cd = lying.size() - 22 - 46 - entries[0].name.size();
    for (size_t k : {size_t{20}, size_t{24}}) std::memcpy(&lying[cd + k], "\xff\xff\xff\x7f", 4);
    expect_error(lying, "truncated");
    // Compressed entries are refused with a hint.
    std::vector<ZipEntryIn> deflated = {{"archive/data.pkl", ref.pickle(), 8}};
    expect_error(make_zip(deflated), "compressed");
    // Big-endian storages (torch >= 2.1 writes <dir>/byteorder) are refused; "little" is read.
    expect_error(make_zip({{"archive/data.pkl", ref.pickle()}, {"archive/byteorder", {'b', 'i', 'g'}}}), "big-endian");
    const Bytes little = make_zip({{"archive/data.pkl", ref.pickle()},
                                   {"archive/byteorder", {'l', 'i', 't', 't', 'l', 'e'}},
                                   {"archive/data/0", raw<float>(ref.f32)},
                                   {"archive/data/1", raw<uint16_t>(ref.bf16)},
                                   {"archive/data/2", raw<uint16_t>(ref.f16)}});
    EXPECT_TRUE(PthFile::from_memory(little.data(), little.size()).ok());
    // No data.pkl at all.
    expect_error(make_zip({{"archive/other", {1, 2}}}), "data.pkl");
}

TEST(PthReader, RejectsBadTensorRecords) {
    const Bytes s0 = raw<float>(torch::ones({4}));
    auto one = [&](const std::vector<int64_t>& size, const std::vector<int64_t>& stride, int64_t offset,
                   int64_t numel, const std::string& key, const std::string& needle) {
        Pickler p;
        p.proto().op('}').put().str("t").tensor("Float", key, numel, offset, size, stride).op('s').stop();
        expect_error(archive(p.b, {{"0", s0}}), needle);
    };
    one({2, 2}, {2, 2}, 0, 4, "0", "reaches element");     // stride walks past the storage
    one({4}, {1}, 1, 4, "0", "reaches element");           // offset pushes it past
    one({4}, {1}, 0, 8, "0", "truncated");                 // storage larger than its entry
    one({4}, {1}, 0, 4, "9", "missing");                   // storage not in the archive
    one({2}, {-1}, 0, 4, "0", "negative");
    one({int64_t{1} << 40, int64_t{1} << 40}, {1, 1}, 0, 4, "0", "overflow");
    one({int64_t{1} << 30}, {0}, 0, 4, "0", "overlaps");   // a broadcast view would blow up memory
}

TEST(PthReader, RejectsMalformedPickles) {
    auto one = [](Bytes pickle, const std::string& needle) { expect_error(archive(pickle, {}), needle); };
    one({0x80, 2, 'X', 0xff, 0xff, 0, 0, 'a'}, "past the end");  // string longer than the pickle
    one({0x80, 2, 'h', 99, '.'}, "never stored");                // memo out of range
    one({0x80, 2, 'j', 0xff, 0xff, 0xff, 0xff, '.'}, "never stored");
    one({0x80, 2, 's', '.'}, "underflow");
    one({0x80, 2, ']', 'K', 1, 's', '.'}, "underflow");
    one({0x80, 2, 'N', 'N', 's', '.'}, "underflow");
    one({0x80, 2, '}', 'N', 'N', 'a', '.'}, "not a list");
    one({0x80, 2, '}', 'q', 0, 'N', 'K', 1, 'b', '.'}, "not a dict");
    one({0x80, 2, 0xff, '.'}, "unsupported opcode");
    one({0x80, 9, '.'}, "protocol");
    one({0x80, 2, '}'}, "STOP");
    one({0x80, 2, 'N', 'N', '.'}, "malformed stack");
    one({0x80, 2, 0x8a, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, '.'}, "64 bits");
    one({0x80, 2, 'c', 'o', 's', '\n', 's', 'y', 's'}, "unterminated");
    one({0x80, 2, 'K', 1, '.'}, "not a dict");
    Bytes marks = {0x80, 2};
    marks.insert(marks.end(), 100000, '(');
    marks.push_back('.');
    one(marks, "MARK");
    // Deep but legal nesting of tuples is fine for the machine; a deep dict tree is refused when flattened.
    Bytes deep = {0x80, 2, '}'};
    for (int i = 0; i < 200; ++i) deep.insert(deep.end(), {'X', 1, 0, 0, 0, 'k', '}'});
    for (int i = 0; i < 200; ++i) deep.push_back('s');
    deep.push_back('.');
    one(deep, "nests");
    // A dict shared under two keys at each of 40 levels would flatten to 2^40 entries: refused, quickly.
    Bytes wide = {0x80, 2, '}', 'q', 0, '0'};
    for (int i = 1; i <= 40; ++i) {
        wide.insert(wide.end(), {'}', 'q', static_cast<uint8_t>(i), 'X', 1, 0, 0, 0, 'a', 'h',
                                 static_cast<uint8_t>(i - 1), 'X', 1, 0, 0, 0, 'b', 'h', static_cast<uint8_t>(i - 1),
                                 'u'});
        wide.insert(wide.end() - 17, '(');
        if (i < 40) wide.push_back('0');  // POP: only the top dict stays on the stack
    }
    wide.push_back('.');
    one(wide, "expands");
}

TEST(PthReader, SurvivesRandomMutations) {
    const Reference ref;
    const Bytes pickle = ref.pickle();
    const std::vector<ZipEntryIn> storages = {{"0", raw<float>(ref.f32)}, {"1", raw<uint16_t>(ref.bf16)},
                                              {"2", raw<uint16_t>(ref.f16)}};
    const Bytes good = archive(pickle, storages);
    std::mt19937 rng(1234);
    int opened = 0;
    for (int it = 0; it < 600; ++it) {
        Bytes zip;
        if (it % 2 == 0) {
            // Mutate the pickle and re-zip it with a valid CRC, so the pickle machine sees the damage.
            Bytes p = pickle;
            const int flips = 1 + static_cast<int>(rng() % 4);
            for (int k = 0; k < flips; ++k) p[rng() % p.size()] = static_cast<uint8_t>(rng());
            if (rng() % 4 == 0) p.resize(rng() % p.size());
            zip = archive(p, storages);
        } else {
            // Mutate the archive itself.
            zip = good;
            const int flips = 1 + static_cast<int>(rng() % 8);
            for (int k = 0; k < flips; ++k) zip[rng() % zip.size()] = static_cast<uint8_t>(rng());
        }
        auto f = PthFile::from_memory(zip.data(), zip.size(), /*verify_storages=*/false);
        if (!f.ok()) {
            EXPECT_FALSE(f.message().empty());
            continue;
        }
        ++opened;
        for (const auto& t : f->tensors()) {
            auto value = f->read(t.name);
            ASSERT_TRUE(value.ok()) << value.message();
            EXPECT_EQ(value->numel(), t.numel());
        }
    }
    EXPECT_GT(opened, 0);
}

class PthFileTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = (fs::temp_directory_path() / "fl-pth-XXXXXX").string();
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    fs::path dir_;
};

TEST_F(PthFileTest, OpenWeightsPicksFormatByContentAndLoadsModules) {
    torch::manual_seed(0);
    torch::nn::Linear src(3, 2);
    const auto w = src->weight.detach().contiguous();
    const auto b = src->bias.detach().contiguous();
    Pickler p;
    p.proto().ordered_dict().op('(');
    p.str("weight").tensor("Float", "0", 6, 0, {2, 3}, {3, 1});
    p.str("bias").tensor("Float", "1", 2, 0, {2}, {1});
    p.op('u').stop();
    const Bytes zip = archive(p.b, {{"0", raw<float>(w)}, {"1", raw<float>(b)}});
    const fs::path pth = dir_ / "tiny.safetensors";  // misnamed on purpose: content decides
    std::ofstream(pth, std::ios::binary).write(reinterpret_cast<const char*>(zip.data()),
                                               static_cast<std::streamsize>(zip.size()));
    const fs::path st = dir_ / "tiny.pth";
    ASSERT_TRUE(write_safetensors(st, module_blobs(*src)).ok());

    for (const auto& path : {pth, st}) {
        auto file = open_weights(path);
        ASSERT_TRUE(file.ok()) << file.message();
        EXPECT_EQ(file->safetensors() != nullptr, path == st);
        ASSERT_NE(file->find("weight"), nullptr);
        torch::nn::Linear dst(3, 2);
        ASSERT_TRUE(load_module(*dst, *file).ok());
        EXPECT_TRUE(torch::equal(dst->weight, src->weight));
        EXPECT_TRUE(torch::equal(dst->bias, src->bias));
        torch::nn::Linear wrong(4, 2);
        const auto err = load_module(*wrong, *file);
        ASSERT_FALSE(err.ok());
        EXPECT_NE(err.message().find("'weight'"), std::string::npos) << err.message();
    }
    auto open = PthFile::open(pth, /*verify_storages=*/true);
    ASSERT_TRUE(open.ok()) << open.message();
    EXPECT_FALSE(open_weights(dir_ / "missing.pth").ok());
}

}  // namespace
}  // namespace fl::inference
