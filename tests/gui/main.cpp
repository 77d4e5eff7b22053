// The studio tests' own main: one QApplication on the stack for the whole run, so it is destroyed before
// Qt's own statics (a function-static QApplication dies after them and crashes at exit).
// fl_test also links gtest_main; this main takes precedence because the archive's main is never pulled in.
#include <gtest/gtest.h>

#include <QApplication>

#include "frameloom/media/probe.h"

int main(int argc, char** argv) {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    ::testing::InitGoogleTest(&argc, argv);
    fl::media::set_ffmpeg_verbose(false);
    QApplication app(argc, argv);
    return RUN_ALL_TESTS();
}
