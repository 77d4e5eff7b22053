// Safety of the work, driven through the studio under QT_QPA_PLATFORM=offscreen: unfinished generations
// survive a save and reopen, a failed job is retried with the same settings, media that moved is relinked,
// and a take's file is never deleted while a project references it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <QApplication>
#include <QListWidget>
#include <QPushButton>
#include <QSignalSpy>
#include <QTest>
#include <chrono>
#include <filesystem>
#include <functional>

#include "frameloom/core/atomic_file.h"
#include "frameloom/core/edit.h"
#include "frameloom/core/media_paths.h"
#include "frameloom/core/project.h"
#include "frameloom/core/project_file.h"
#include "frameloom/media/encode.h"
#include "support/studio_fixture.h"
#include "ui/jobs_panel.h"
#include "ui/main_window.h"
#include "ui/project_document.h"
#include "ui/takes_strip.h"

namespace fs = std::filesystem;
using fl::studio::JobsPanel;
using fl::studio::MainWindow;
using fl::test::wait_until;

namespace {

constexpr int kJobTimeoutMs = 60000;

/// A small clip of flat colour (a real MP4, so thumbnails and previews decode it).
void write_clip(const fs::path& path, uint8_t shade) {
    fl::core::Video video;
    video.fps = fl::core::FrameRate{8, 1};
    for (int i = 0; i < 8; ++i) {
        fl::core::Frame frame(64, 64);
        std::fill(frame.rgb.begin(), frame.rgb.end(), static_cast<uint8_t>(shade + i));
        video.frames.push_back(std::move(frame));
    }
    fs::create_directories(path.parent_path());
    auto written = fl::media::encode_mp4(video, path, {});
    ASSERT_TRUE(written.ok()) << written.message();
}

class StudioSafetyTest : public fl::test::StudioFixture {
protected:
    StudioSafetyTest() : StudioFixture("fl-safety") {}

    void SetUp() override {
        ASSERT_NE(QApplication::instance(), nullptr);
        StudioFixture::SetUp();
    }

    /// One shot of the default model, small and quick (2 steps).
    fl::core::Project starter() { return fl::test::one_shot_project(2); }

    fs::path save(const fl::core::Project& project, const std::string& name = "film.flproj") {
        return fl::test::save_project_expect_ok(project, dir_ / name);
    }

    MainWindow& window() {
        window_ = std::make_unique<MainWindow>();
        window_->setInteractive(false);
        window_->setAutosaveInterval(0);
        window_->show();
        return *window_;
    }

    MainWindow& open_window(const fs::path& project) {
        MainWindow& w = window();
        EXPECT_TRUE(w.openProject(QString::fromStdString(project.string()))) << w.lastError().toStdString();
        return w;
    }
};

TEST_F(StudioSafetyTest, QueuedJobsAreSavedAndRequeuedOnReopen) {
    const fs::path path = save(starter());
    {
        MainWindow& w = open_window(path);
        w.selectShot(QString::fromStdString(w.document()->project().shots.front().id));
        const QList<quint64> jobs = w.generateVariations(2);
        ASSERT_EQ(jobs.size(), 2);
        // No events are processed in between, so neither job can have been applied yet: both are
        // unfinished when the project is saved.
        ASSERT_TRUE(w.saveProject()) << w.lastError().toStdString();
        // The in-memory project never holds them (they are not an edit).
        EXPECT_TRUE(w.document()->project().queued_generations.empty());
    }
    auto stored = fl::core::load_project(path);
    ASSERT_TRUE(stored.ok()) << stored.message();
    ASSERT_EQ(stored->queued_generations.size(), 2u);
    const fl::core::QueuedGeneration first = stored->queued_generations[0];
    const fl::core::QueuedGeneration second = stored->queued_generations[1];
    EXPECT_EQ(first.shot_id, stored->shots.front().id);
    EXPECT_FALSE(first.to_timeline);  // variations join the shot
    EXPECT_NE(first.params.seed, second.params.seed);
    EXPECT_EQ(first.params.prompt, stored->shots.front().params.prompt);
    window_.reset();  // closes the first session; its running job is cancelled

    MainWindow& w = window();
    QSignalSpy finished(&w, &MainWindow::generationFinished);
    ASSERT_TRUE(w.openProject(QString::fromStdString(path.string()))) << w.lastError().toStdString();
    EXPECT_EQ(w.jobsPanel()->count(), 0);  // rows appear once the queue reports them
    ASSERT_TRUE(wait_until([&] { return finished.count() >= 2; }, 2 * kJobTimeoutMs));
    EXPECT_EQ(w.jobsPanel()->count(), 2);
    EXPECT_TRUE(finished.at(0).at(1).toBool());
    EXPECT_TRUE(finished.at(1).at(1).toBool());
    const fl::core::Shot& shot = w.document()->project().shots.front();
    ASSERT_EQ(shot.takes.size(), 2u);
    EXPECT_EQ(shot.takes[0].params.seed, first.params.seed);
    EXPECT_EQ(shot.takes[1].params.seed, second.params.seed);
    for (const auto& take : shot.takes) EXPECT_TRUE(fs::exists(w.document()->resolve_media(take.file)));
    EXPECT_TRUE(w.document()->project().check_invariants().ok());

    // Once done, saving leaves no queued generations in the file.
    ASSERT_TRUE(w.saveProject()) << w.lastError().toStdString();
    auto after = fl::core::load_project(path);
    ASSERT_TRUE(after.ok()) << after.message();
    EXPECT_TRUE(after->queued_generations.empty());
    EXPECT_EQ(after->shots.front().takes.size(), 2u);
}

TEST_F(StudioSafetyTest, RetryOfAFailedJobQueuesTheSameGenerationAgain) {
    fl::core::Project project = starter();
    project.shots.front().params.conditioning.first_frame = "keys/start.png";  // not there yet
    MainWindow& w = open_window(save(project));
    w.selectShot(QString::fromStdString(w.document()->project().shots.front().id));
    QSignalSpy finished(&w, &MainWindow::generationFinished);
    const quint64 job = w.generate();
    ASSERT_NE(job, 0u);
    ASSERT_TRUE(wait_until([&] { return finished.count() >= 1; }, kJobTimeoutMs));
    EXPECT_FALSE(finished.at(0).at(1).toBool());
    EXPECT_EQ(w.jobsPanel()->stateText(job).toStdString(), "failed");
    EXPECT_TRUE(w.jobsPanel()->errorText(job).contains("start.png"))
        << w.jobsPanel()->errorText(job).toStdString();
    ASSERT_TRUE(w.jobsPanel()->canRetry(job));
    EXPECT_TRUE(w.document()->project().shots.front().takes.empty());

    // The cause goes away (the keyframe appears); Retry runs the very same generation.
    fl::core::Frame key(64, 64);
    std::fill(key.rgb.begin(), key.rgb.end(), uint8_t{40});
    fs::create_directories(dir_ / "keys");
    ASSERT_TRUE(fl::media::write_png(key, dir_ / "keys" / "start.png").ok());
    QSignalSpy retried(&w, &MainWindow::generationFinished);
    ASSERT_TRUE(w.jobsPanel()->clickRetry(job));
    EXPECT_FALSE(w.jobsPanel()->canRetry(job));  // one retry per failure
    EXPECT_EQ(w.retryJob(job), 0u);
    ASSERT_TRUE(wait_until([&] { return retried.count() >= 1; }, kJobTimeoutMs));
    const quint64 second = retried.at(0).at(0).toULongLong();
    EXPECT_NE(second, job);
    EXPECT_TRUE(retried.at(0).at(1).toBool()) << w.jobsPanel()->errorText(second).toStdString();
    EXPECT_EQ(w.jobsPanel()->stateText(second).toStdString(), "done");
    const fl::core::Shot& shot = w.document()->project().shots.front();
    ASSERT_EQ(shot.takes.size(), 1u);
    // Same generation: the seed the failed job had (the shot's own seed, locked or not, was resolved then).
    EXPECT_EQ(shot.takes[0].params.conditioning.first_frame,
              (dir_ / "keys" / "start.png").lexically_normal().string());
    EXPECT_EQ(shot.takes[0].params.steps, 2);
    EXPECT_TRUE(fs::exists(w.document()->resolve_media(shot.takes[0].file)));
}

TEST_F(StudioSafetyTest, RelinkAfterMovingTheMediaFolder) {
    fl::core::Project project = starter();
    write_clip(dir_ / "film.media" / "take-a.mp4", 60);
    write_clip(dir_ / "film.media" / "take-b.mp4", 120);
    fl::core::Shot& shot = project.shots.front();
    for (const char* name : {"take-a.mp4", "take-b.mp4"}) {
        fl::core::Take take;
        take.id = project.fresh_id("take");
        take.file = std::string("film.media/") + name;
        take.sha256 = *fl::core::sha256_file(dir_ / take.file);
        take.params = shot.params;
        shot.takes.push_back(take);
    }
    shot.selected_take = shot.takes[0].id;
    fl::core::Clip clip;
    clip.id = project.fresh_id("clip");
    clip.source = fl::core::ClipSource{shot.id, shot.takes[0].id, shot.takes[0].file};
    clip.out = 8;
    project.sequence.tracks.front().clips.push_back(clip);
    fl::core::Clip gone;  // a file that is nowhere to be found
    gone.id = project.fresh_id("clip");
    gone.source.file = "film.media/gone.mp4";
    gone.position = 8;
    gone.out = 8;
    project.sequence.tracks.front().clips.push_back(gone);
    // A generation that was still queued at the last save, starting from a keyframe in the media folder.
    fl::core::Frame key(64, 64);
    std::fill(key.rgb.begin(), key.rgb.end(), uint8_t{90});
    ASSERT_TRUE(fl::media::write_png(key, dir_ / "film.media" / "key.png").ok());
    fl::core::QueuedGeneration queued;
    queued.shot_id = shot.id;
    queued.title = "Generate Opening";
    queued.params = shot.params;
    queued.params.conditioning.first_frame = "film.media/key.png";
    queued.to_timeline = false;
    project.queued_generations.push_back(queued);
    const fs::path path = save(project);

    // The user moves the media folder away (and renames it).
    fs::create_directories(dir_ / "backup");
    fs::rename(dir_ / "film.media", dir_ / "backup" / "film media old");

    MainWindow& w = window();
    QSignalSpy finished(&w, &MainWindow::generationFinished);
    QStringList asked_for;
    int asked = 0;
    w.setRelinkPrompt([&](const QStringList& missing) {
        ++asked;
        asked_for = missing;
        return QString::fromStdString((dir_ / "backup").string());
    });
    ASSERT_TRUE(w.openProject(QString::fromStdString(path.string()))) << w.lastError().toStdString();
    EXPECT_EQ(asked, 1);
    EXPECT_EQ(asked_for,
              (QStringList{"film.media/take-a.mp4", "film.media/take-b.mp4", "film.media/gone.mp4"}));

    const fl::core::Project& now = w.document()->project();
    const std::string moved = "backup/film media old/";
    EXPECT_EQ(now.shots[0].takes[0].file, moved + "take-a.mp4");
    EXPECT_EQ(now.shots[0].takes[1].file, moved + "take-b.mp4");
    EXPECT_EQ(now.sequence.tracks[0].clips[0].source.file, moved + "take-a.mp4");
    for (const auto& take : now.shots[0].takes)
        EXPECT_TRUE(fs::exists(w.document()->resolve_media(take.file)));
    // What was not found stays listed (and said).
    EXPECT_EQ(w.missingMedia(), QStringList{"film.media/gone.mp4"});
    EXPECT_TRUE(w.lastError().contains("gone.mp4")) << w.lastError().toStdString();
    EXPECT_TRUE(now.check_invariants().ok());

    // The queued generation was relinked with the same folder and runs from the moved keyframe.
    ASSERT_TRUE(wait_until([&] { return finished.count() >= 1; }, kJobTimeoutMs));
    const quint64 requeued = finished.at(0).at(0).toULongLong();
    ASSERT_TRUE(finished.at(0).at(1).toBool()) << w.jobsPanel()->errorText(requeued).toStdString();
    ASSERT_EQ(w.document()->project().shots[0].takes.size(), 3u);
    EXPECT_EQ(w.document()->project().shots[0].takes[2].params.conditioning.first_frame,
              "backup/film media old/key.png");
    w.document()->undo();  // the take the generation added

    // One undoable step, and the document is modified until saved.
    EXPECT_TRUE(w.document()->is_modified());
    EXPECT_EQ(w.document()->undo_stack().undo_text(), "Relink media");
    w.document()->undo();
    EXPECT_EQ(w.document()->project().shots[0].takes[0].file, "film.media/take-a.mp4");
    EXPECT_FALSE(w.document()->is_modified());
    ASSERT_TRUE(w.document()->redo().ok());
    EXPECT_EQ(w.document()->project().shots[0].takes[0].file, moved + "take-a.mp4");

    // Saved, the relinked references open without any question.
    ASSERT_TRUE(w.saveProject()) << w.lastError().toStdString();
    window_.reset();
    MainWindow& again = window();
    int asked_again = 0;
    again.setRelinkPrompt([&](const QStringList&) {
        ++asked_again;
        return QString();
    });
    ASSERT_TRUE(again.openProject(QString::fromStdString(path.string())));
    EXPECT_EQ(asked_again, 1);  // only gone.mp4 is still missing; the user declines this time
    EXPECT_EQ(again.missingMedia(), QStringList{"film.media/gone.mp4"});
    EXPECT_FALSE(again.document()->is_modified());
}

TEST_F(StudioSafetyTest, ReferencedTakeSurvivesTimelineRemovalAndProjectClose) {
    // A never-saved project: takes go to its temporary media folder.
    MainWindow& w = window();
    const fs::path unsaved = w.document()->unsaved_media_dir();
    QSignalSpy finished(&w, &MainWindow::generationFinished);
    fl::core::GenerationParams params = w.document()->project().shots.front().params;
    params.steps = 2;
    ASSERT_TRUE(w.document()
                    ->push(fl::core::make_set_shot_params(w.document()->project().shots.front().id, params))
                    .ok());
    ASSERT_NE(w.generate(), 0u);
    // Saved before the generation finished: the file records it as queued, and the take will land in
    // the temporary folder, referenced only by the autosave written when it is applied.
    const fs::path path = dir_ / "film.flproj";
    ASSERT_TRUE(w.saveProjectAs(QString::fromStdString(path.string()))) << w.lastError().toStdString();
    ASSERT_TRUE(wait_until([&] { return finished.count() >= 1; }, kJobTimeoutMs));
    ASSERT_TRUE(finished.at(0).at(1).toBool());
    const fl::core::Shot& shot = w.document()->project().shots.front();
    ASSERT_EQ(shot.takes.size(), 1u);
    const fs::path take_file = w.document()->resolve_media(shot.takes[0].file);
    EXPECT_TRUE(fl::core::is_inside(take_file, unsaved)) << take_file;
    ASSERT_TRUE(fs::exists(take_file));
    ASSERT_TRUE(fs::exists(w.document()->autosave_path()));  // written when the take was applied

    // Removing the clip from the timeline, and then the whole shot, deletes no file.
    const auto& track = w.document()->project().sequence.tracks.front();
    ASSERT_EQ(track.clips.size(), 1u);
    ASSERT_TRUE(w.document()->push(fl::core::make_ripple_delete(track.id, track.clips.front().id)).ok());
    EXPECT_TRUE(fs::exists(take_file));
    // Removing the take itself (the takes strip's Remove button) keeps its file too.
    ASSERT_EQ(w.takesStrip()->list()->count(), 1);
    w.takesStrip()->list()->setCurrentRow(0);
    auto* remove = w.findChild<QPushButton*>("removeTakeButton");
    ASSERT_NE(remove, nullptr);
    ASSERT_TRUE(remove->isEnabled());
    remove->click();
    EXPECT_TRUE(w.document()->project().shots.front().takes.empty()) << w.lastError().toStdString();
    EXPECT_EQ(w.document()->undo_stack().undo_text(), "Remove take");
    EXPECT_TRUE(fs::exists(take_file));
    w.document()->undo();
    ASSERT_EQ(w.document()->project().shots.front().takes.size(), 1u);
    w.removeShot();
    EXPECT_TRUE(w.document()->project().shots.empty());
    EXPECT_TRUE(fs::exists(take_file));
    w.document()->undo();
    w.document()->undo();
    ASSERT_EQ(w.document()->project().shots.size(), 1u);
    ASSERT_TRUE(w.autosaveNow());

    // The window goes away without the save question (as when the session ends): the autosave still
    // references the take, so its file is kept; files nothing references are removed.
    const fs::path stray = unsaved / "stray.mp4";
    write_clip(stray, 10);
    window_.reset();
    EXPECT_TRUE(fs::exists(take_file));
    EXPECT_FALSE(fs::exists(stray));

    // Reopening offers the autosave; restored, the take is there and plays from its file.
    MainWindow& back = window();
    back.setRestorePrompt([](const QString&) { return true; });
    ASSERT_TRUE(back.openProject(QString::fromStdString(path.string()))) << back.lastError().toStdString();
    ASSERT_EQ(back.document()->project().shots.size(), 1u);
    ASSERT_EQ(back.document()->project().shots.front().takes.size(), 1u);
    EXPECT_EQ(back.document()->resolve_media(back.document()->project().shots.front().takes[0].file),
              take_file);
    EXPECT_TRUE(back.missingMedia().isEmpty());
    // Saving now copies it into the project's own media folder; the temporary copy may then go.
    ASSERT_TRUE(back.saveProject()) << back.lastError().toStdString();
    const fs::path kept =
        back.document()->resolve_media(back.document()->project().shots.front().takes[0].file);
    EXPECT_TRUE(fl::core::is_inside(kept, dir_ / "film.media")) << kept;
    EXPECT_TRUE(fs::exists(kept));
    std::error_code ec;
    fs::remove_all(unsaved.parent_path(), ec);  // the first window's folder: this test's to clean up
}

TEST(JobsPanelTest, EtaIsMeasuredPerPhaseFromTheProgressReports) {
    JobsPanel panel;
    qint64 now = 0;
    panel.setClock([&] { return now; });
    fl::core::JobStatus s;
    s.id = 3;
    s.title = "Generate Opening";
    s.state = fl::core::JobState::Queued;
    panel.updateJob(s);
    EXPECT_EQ(panel.stateText(3).toStdString(), "queued");
    EXPECT_TRUE(panel.etaText(3).isEmpty());

    s.state = fl::core::JobState::Running;
    s.label = "loading Shapes tiny";
    panel.updateJob(s);  // no count yet: no estimate
    EXPECT_TRUE(panel.etaText(3).isEmpty());
    now = 5000;  // the model load took 5 s; it must not count into the steps' estimate
    s.done = 0;
    s.total = 20;
    s.label = "step 0/20";
    panel.updateJob(s);
    EXPECT_TRUE(panel.etaText(3).isEmpty());
    now = 9000;  // 4 steps in 4 s → 16 s for the 16 left
    s.done = 4;
    s.label = "step 4/20";
    panel.updateJob(s);
    EXPECT_EQ(panel.etaText(3).toStdString(), "about 16 s left");
    EXPECT_EQ(panel.labelText(3).toStdString(), "step 4/20 · about 16 s left");

    // A new phase (encoding 16 frames) is estimated afresh.
    now = 30000;
    s.done = 0;
    s.total = 16;
    s.label = "encoding 0/16";
    panel.updateJob(s);
    EXPECT_TRUE(panel.etaText(3).isEmpty());
    now = 30100;  // 8 frames in 0.1 s → 0.1 s for the 8 left
    s.done = 8;
    panel.updateJob(s);
    EXPECT_EQ(panel.etaText(3).toStdString(), "about <1 s left");
    now = 30000 + 12 * 30000;  // a slow stretch: 30 s a frame on average → 2 min for the 4 left
    s.done = 12;
    panel.updateJob(s);
    EXPECT_EQ(panel.etaText(3).toStdString(), "about 2 min 0 s left");

    s.state = fl::core::JobState::Failed;
    s.error = "out of memory";
    panel.updateJob(s);
    EXPECT_TRUE(panel.etaText(3).isEmpty());
    EXPECT_FALSE(panel.canRetry(3));  // only when the window says the job can be retried
    QSignalSpy retry(&panel, &JobsPanel::retryRequested);
    panel.setRetryable(3, true);
    ASSERT_TRUE(panel.clickRetry(3));
    ASSERT_EQ(retry.count(), 1);
    EXPECT_EQ(retry.at(0).at(0).toULongLong(), 3u);
}

TEST(JobsPanelTest, DurationsReadNaturally) {
    EXPECT_EQ(fl::studio::format_duration(0.2).toStdString(), "<1 s");
    EXPECT_EQ(fl::studio::format_duration(16).toStdString(), "16 s");
    EXPECT_EQ(fl::studio::format_duration(125).toStdString(), "2 min 5 s");
    EXPECT_EQ(fl::studio::format_duration(3 * 3600 + 120).toStdString(), "3 h 2 min");
}

}  // namespace
