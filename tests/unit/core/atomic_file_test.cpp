#include "frameloom/core/atomic_file.h"

#include <gtest/gtest.h>

#include "unit/core/core_test_util.h"

namespace fl::core {
namespace {

namespace fs = std::filesystem;
using test::read_bytes;
using test::TempDir;
using test::write_bytes;

size_t entries_in(const fs::path& dir) {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
    return n;
}

TEST(AtomicWrite, WritesAndReplacesLeavingNoTemp) {
    TempDir dir;
    const fs::path target = dir / "project.flproj";
    ASSERT_TRUE(write_file_atomically(target, "first").ok());
    EXPECT_EQ(read_bytes(target), "first");
    ASSERT_TRUE(write_file_atomically(target, std::string("sec\0ond", 7)).ok());
    EXPECT_EQ(read_bytes(target), std::string("sec\0ond", 7));
    EXPECT_EQ(entries_in(dir.path()), 1u);  // no temp file left behind
}

TEST(AtomicWrite, MissingFolderFailsAndCreatesNothing) {
    TempDir dir;
    const fs::path target = dir / "no-such-folder" / "project.flproj";
    const auto r = write_file_atomically(target, "x");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find("does not exist"), std::string::npos) << r.message();
    EXPECT_FALSE(fs::exists(target));
    EXPECT_EQ(entries_in(dir.path()), 0u);
}

TEST(AtomicWrite, TargetThatIsAFolderIsLeftUntouched) {
    TempDir dir;
    const fs::path target = dir / "taken";
    fs::create_directory(target);
    write_bytes(target / "inside.txt", "keep me");
    const auto r = write_file_atomically(target, "x");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find("folder"), std::string::npos) << r.message();
    EXPECT_TRUE(fs::is_directory(target));
    EXPECT_EQ(read_bytes(target / "inside.txt"), "keep me");
    EXPECT_EQ(entries_in(dir.path()), 1u);
}

TEST(AtomicWrite, FailedWriteKeepsExistingTargetBytes) {
    // The folder of the target vanishes between writes: the old file (elsewhere) must be unchanged, and
    // writing through a path whose parent is a file fails without touching that file.
    TempDir dir;
    const fs::path file = dir / "plain.txt";
    write_bytes(file, "original");
    const auto r = write_file_atomically(file / "child.flproj", "x");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(read_bytes(file), "original");
}

TEST(PendingFileTest, RemovesTempWhenNotCommitted) {
    TempDir dir;
    const fs::path target = dir / "render.mp4";
    fs::path temp;
    {
        auto pending = PendingFile::create(target);
        ASSERT_TRUE(pending.ok()) << pending.message();
        temp = pending->temp_path();
        EXPECT_EQ(temp.parent_path(), target.parent_path());
        EXPECT_EQ(temp.extension(), ".mp4");  // muxers guess the format from the name
        write_bytes(temp, "partial");
        EXPECT_TRUE(fs::exists(temp));
    }
    EXPECT_FALSE(fs::exists(temp));
    EXPECT_FALSE(fs::exists(target));
}

TEST(PendingFileTest, CommitRenamesOntoTarget) {
    TempDir dir;
    const fs::path target = dir / "render.mp4";
    write_bytes(target, "old");
    auto pending = PendingFile::create(target);
    ASSERT_TRUE(pending.ok());
    write_bytes(pending->temp_path(), "new");
    EXPECT_EQ(read_bytes(target), "old");  // untouched until commit
    PendingFile moved = std::move(*pending);
    ASSERT_TRUE(moved.commit().ok());
    EXPECT_EQ(read_bytes(target), "new");
    EXPECT_EQ(entries_in(dir.path()), 1u);
    EXPECT_FALSE(moved.commit().ok());  // twice is a bug, reported not crashed
}

TEST(PendingFileTest, CommitWithoutWritingFails) {
    TempDir dir;
    auto pending = PendingFile::create(dir / "out.mp4");
    ASSERT_TRUE(pending.ok());
    const auto r = pending->commit();
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find("nothing was written"), std::string::npos);
    EXPECT_FALSE(fs::exists(dir / "out.mp4"));
}

TEST(PendingFileTest, MissingFolderIsReportedAtCreate) {
    TempDir dir;
    const auto r = PendingFile::create(dir / "missing" / "out.mp4");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find("does not exist"), std::string::npos);
}

TEST(Sha256, KnownVectors) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, FileMatchesBytesAndMissingFileFails) {
    TempDir dir;
    const std::string bytes(200000, 'z');  // spans several read buffers
    write_bytes(dir / "f.bin", bytes);
    const auto h = sha256_file(dir / "f.bin");
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(*h, sha256_hex(bytes));
    const auto missing = sha256_file(dir / "nope.bin");
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.message().find("nope.bin"), std::string::npos);
}

TEST(ReadFile, ReturnsEveryByteOrSaysWhy) {
    TempDir dir;
    const std::string bytes = std::string("a\0b", 3) + std::string(100000, 'q');
    write_bytes(dir / "f.bin", bytes);
    const auto read = read_file(dir / "f.bin");
    ASSERT_TRUE(read.ok()) << read.message();
    EXPECT_EQ(*read, bytes);
    const auto missing = read_file(dir / "nope.bin");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.message(),
              "cannot read " + (dir / "nope.bin").string() + ": No such file or directory");
    const auto folder = read_file(dir.path());
    ASSERT_FALSE(folder.ok());
    EXPECT_NE(folder.message().find("it is a folder"), std::string::npos) << folder.message();
}

}  // namespace
}  // namespace fl::core
