// frameloom-studio [PROJECT]: the Qt 6 studio. Opens PROJECT when given.

#include <QApplication>
#include <QCommandLineParser>
#include <cstdio>
#include <cstring>

#include "frameloom/media/probe.h"
#include "ui/main_window.h"
#include "frameloom/inference/process.h"

namespace {
constexpr const char* kUsage =
    "Usage: frameloom-studio [PROJECT]\n"
    "Frameloom Studio: write shots as text, generate them locally, cut them on a timeline.\n\n"
    "Arguments:\n"
    "  PROJECT        project file (.flproj) to open\n\n"
    "Options:\n"
    "  -h, --help     show this help\n"
    "  -v, --version  show the version\n";
}  // namespace

int main(int argc, char** argv) {
    fl::inference::prepare_process(argc, argv);
    // Answer --help and --version before QApplication, which needs a display.
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "-h") || !std::strcmp(argv[i], "--help")) {
            std::fputs(kUsage, stdout);
            return 0;
        }
        if (!std::strcmp(argv[i], "-v") || !std::strcmp(argv[i], "--version")) {
            std::printf("frameloom-studio %s\n", FL_VERSION);
            return 0;
        }
    }

    fl::media::set_ffmpeg_verbose(false);  // errors reach the user as one-line messages instead
    QApplication app(argc, argv);
    QApplication::setApplicationName("Frameloom Studio");
    QApplication::setOrganizationName("Frameloom");
    QApplication::setApplicationVersion(QStringLiteral(FL_VERSION));

    QCommandLineParser parser;
    parser.addPositionalArgument("project", "Project file (.flproj) to open.", "[PROJECT]");
    parser.process(app);
    const QStringList args = parser.positionalArguments();
    if (args.size() > 1) {
        std::fputs(kUsage, stderr);
        return 2;
    }

    fl::studio::MainWindow window;
    window.show();
    if (!args.isEmpty()) window.openProject(args.front());
    return QApplication::exec();
}
