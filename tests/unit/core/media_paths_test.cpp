// Media references: resolving, storing relative to a project folder, rebasing on Save As, copying safely.
#include "frameloom/core/media_paths.h"

#include <gtest/gtest.h>

#include "core_test_util.h"
#include "frameloom/core/atomic_file.h"

namespace fl::core {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

TEST(MediaPaths, MediaFolderIsBesideTheProjectFile) {
    EXPECT_EQ(media_folder_for("/a/film.flproj"), fs::path("/a/film.media"));
    EXPECT_EQ(media_folder_for("/a/b/my cut.flproj"), fs::path("/a/b/my cut.media"));
}

TEST(MediaPaths, ResolveAndStore) {
    EXPECT_EQ(resolve_media_reference("film.media/t.mp4", "/a"), fs::path("/a/film.media/t.mp4"));
    EXPECT_EQ(resolve_media_reference("../x/t.mp4", "/a/b"), fs::path("/a/x/t.mp4"));
    EXPECT_EQ(resolve_media_reference("/c/t.mp4", "/a"), fs::path("/c/t.mp4"));
    EXPECT_EQ(resolve_media_reference("", "/a"), fs::path());

    EXPECT_EQ(media_reference_for("/a/film.media/t.mp4", "/a"), "film.media/t.mp4");
    EXPECT_EQ(media_reference_for("/a/./film.media/../film.media/t.mp4", "/a/"), "film.media/t.mp4");
    EXPECT_EQ(media_reference_for("/ab/t.mp4", "/a"), "/ab/t.mp4");  // a sibling with a common prefix
    EXPECT_EQ(media_reference_for("/c/t.mp4", "/a"), "/c/t.mp4");
    EXPECT_EQ(media_reference_for("/c/t.mp4", ""), "/c/t.mp4");

    EXPECT_TRUE(is_inside("/a/b/c", "/a"));
    EXPECT_FALSE(is_inside("/a/../b/c", "/a"));
    EXPECT_FALSE(is_inside("/ab", "/a"));
    EXPECT_FALSE(is_inside("/a/b", ""));
}

/// A project whose takes and clips reference media in every way a project can.
Project project_with_references() {
    Project p = Project::make_new("Refs");
    Shot shot;
    shot.id = p.fresh_id("shot");
    shot.params.prompt = "a red circle";
    Take inside = test::sample_take(p.fresh_id("take"), "film.media/t1.mp4");      // relative, in old .media
    Take outside = test::sample_take(p.fresh_id("take"), "/stock/t2.mp4");         // absolute elsewhere
    Take into_new = test::sample_take(p.fresh_id("take"), "/b/new.media/t3.mp4");  // absolute, in new base
    Take up = test::sample_take(p.fresh_id("take"), "../shared/t4.mp4");  // relative, outside the base
    shot.takes = {inside, outside, into_new, up};
    shot.selected_take = inside.id;
    p.shots.push_back(shot);

    Clip of_take;
    of_take.id = p.fresh_id("clip");
    of_take.source = ClipSource{shot.id, inside.id, inside.file};
    of_take.out = 16;
    Clip of_file;
    of_file.id = p.fresh_id("clip");
    of_file.source.file = "music/theme.wav";
    of_file.out = 8;
    of_file.position = 16;
    p.sequence.tracks[0].clips = {of_take, of_file};
    return p;
}

TEST(MediaPaths, RebaseMovesEveryReferenceToTheNewFolder) {
    Project p = project_with_references();
    ASSERT_TRUE(p.check_invariants().ok());
    ASSERT_TRUE(rebase_media_references(p, "/a/proj", "/b").ok());
    const auto& takes = p.shots[0].takes;
    EXPECT_EQ(takes[0].file, "/a/proj/film.media/t1.mp4");  // outside the new base: absolute
    EXPECT_EQ(takes[1].file, "/stock/t2.mp4");
    EXPECT_EQ(takes[2].file, "new.media/t3.mp4");  // inside the new base: relative
    EXPECT_EQ(takes[3].file, "/a/shared/t4.mp4");
    EXPECT_EQ(p.sequence.tracks[0].clips[0].source.file, "/a/proj/film.media/t1.mp4");
    EXPECT_EQ(p.sequence.tracks[0].clips[1].source.file, "/a/proj/music/theme.wav");
    EXPECT_TRUE(p.check_invariants().ok());

    // And back: everything that lies in the old folder becomes relative again.
    ASSERT_TRUE(rebase_media_references(p, "/b", "/a/proj").ok());
    EXPECT_EQ(takes[0].file, "film.media/t1.mp4");
    EXPECT_EQ(takes[2].file, "/b/new.media/t3.mp4");
    EXPECT_EQ(takes[3].file, "/a/shared/t4.mp4");
    EXPECT_EQ(p.sequence.tracks[0].clips[1].source.file, "music/theme.wav");
}

TEST(MediaPaths, RebaseIntoASubfolderAndOntoItselfKeepsMeaning) {
    Project p = project_with_references();
    Project expected = p;
    expected.shots[0].takes[3].file = "/a/shared/t4.mp4";  // outside the base: stored absolute
    ASSERT_TRUE(rebase_media_references(p, "/a/proj", "/a/proj").ok());
    EXPECT_EQ(p, expected);  // same base: everything else stays as it was

    ASSERT_TRUE(rebase_media_references(p, "/a/proj", "/a").ok());
    EXPECT_EQ(p.shots[0].takes[0].file, "proj/film.media/t1.mp4");
    EXPECT_EQ(p.shots[0].takes[3].file, "shared/t4.mp4");
}

TEST(MediaPaths, RebaseRefusesRelativeBasesAndChangesNothing) {
    Project p = project_with_references();
    const Project before = p;
    auto r = rebase_media_references(p, "a/proj", "/b");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find("absolute"), std::string::npos) << r.message();
    EXPECT_FALSE(rebase_media_references(p, "/a", "b").ok());
    EXPECT_EQ(p, before);
}

TEST(MediaPaths, CopyNeverReplacesAnExistingFile) {
    TempDir dir;
    test::write_bytes(dir / "src.mp4", "take bytes");
    fs::create_directories(dir / "new.media");
    const fs::path target = dir.path() / "new.media" / "src.mp4";
    ASSERT_TRUE(copy_file_no_clobber(dir / "src.mp4", target).ok());
    EXPECT_EQ(test::read_bytes(target), "take bytes");
    EXPECT_EQ(*sha256_file(target), *sha256_file(dir / "src.mp4"));

    test::write_bytes(dir / "other.mp4", "other bytes");
    auto again = copy_file_no_clobber(dir / "other.mp4", target);
    ASSERT_FALSE(again.ok());
    EXPECT_NE(again.message().find("already exists"), std::string::npos) << again.message();
    EXPECT_EQ(test::read_bytes(target), "take bytes");

    // A missing source or folder is a one-line error and leaves no temp file behind.
    auto missing = copy_file_no_clobber(dir / "missing.mp4", dir.path() / "new.media" / "m.mp4");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.message().find('\n'), std::string::npos);
    EXPECT_FALSE(copy_file_no_clobber(dir / "src.mp4", dir.path() / "nowhere" / "x.mp4").ok());
    int files = 0;
    for (const auto& entry : fs::directory_iterator(dir.path() / "new.media")) {
        (void)entry;
        ++files;
    }
    EXPECT_EQ(files, 1);
}

}  // namespace
}  // namespace fl::core
