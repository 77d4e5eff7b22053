#pragma once
/// Shared pieces of the studio's GUI tests (QT_QPA_PLATFORM=offscreen): waiting on the event loop, mouse
/// events, a per-test scratch folder with the window under test, and the small one-shot starter project.

#include <gtest/gtest.h>
#include <unistd.h>

#include <QApplication>
#include <QCoreApplication>
#include <QMouseEvent>
#include <QTest>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include "frameloom/core/project.h"
#include "frameloom/core/project_file.h"
#include "ui/main_window.h"

namespace fl::test {

/// Processes events until `done()` or the timeout; true when done.
inline bool wait_until(const std::function<bool()>& done, int timeout_ms) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!done()) {
        if (std::chrono::steady_clock::now() > end) return false;
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
        QTest::qSleep(5);
    }
    return true;
}

/// Sends one left-button mouse event of `type` at `pos` (widget coordinates).
inline void send_mouse(QWidget* widget, QEvent::Type type, QPoint pos, Qt::MouseButtons buttons) {
    QMouseEvent event(type, QPointF(pos), QPointF(widget->mapToGlobal(pos)), Qt::LeftButton, buttons,
                      Qt::NoModifier);
    QApplication::sendEvent(widget, &event);
}

/// A project with one shot of the default model asking for a small, quick clip (`steps` steps, 16 frames
/// at 8 fps); the size is left at the shot's default.
inline fl::core::Project one_shot_project(int steps = 2) {
    fl::core::Project project = fl::core::Project::make_new("Film");
    fl::core::Shot shot;
    shot.id = project.fresh_id("shot");
    shot.name = "Opening";
    shot.params.prompt = "a red circle moving left on a black background";
    shot.params.model = "default";
    shot.params.seed = 7;
    shot.params.steps = steps;
    shot.params.frames = 16;
    shot.params.fps = fl::core::FrameRate{8, 1};
    project.shots.push_back(shot);
    return project;
}

/// Saves `project` to `path`, expecting success; returns `path`.
inline std::filesystem::path save_project_expect_ok(const fl::core::Project& project,
                                                    const std::filesystem::path& path) {
    auto saved = fl::core::save_project(project, path);
    EXPECT_TRUE(saved.ok()) << saved.message();
    return path;
}

/// A test with its own scratch folder `dir_` (temp dir / "PREFIX-PID-TESTNAME", made fresh in SetUp) and a
/// studio window `window_`, which TearDown closes before it removes the folder.
class StudioFixture : public ::testing::Test {
protected:
    explicit StudioFixture(std::string prefix) : prefix_(std::move(prefix)) {}

    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ = std::filesystem::temp_directory_path() /
               (prefix_ + "-" + std::to_string(::getpid()) + "-" + info->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override {
        window_.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    std::filesystem::path dir_;
    std::unique_ptr<fl::studio::MainWindow> window_;

private:
    std::string prefix_;
};

}  // namespace fl::test
