// frameloom-studio [PROJECT]: the Qt 6 studio. Opens PROJECT when given.

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QTimer>
#include <cstdio>
#include <cstring>

#include "frameloom/inference/process.h"
#include "frameloom/media/probe.h"
#include "ui/export_dialog.h"
#include "ui/main_window.h"
#include "ui/preview_player.h"
#include "ui/project_document.h"
#include "ui/storyboard_panel.h"
#include "ui/timeline_view.h"

namespace {
constexpr const char* kUsage =
    "Usage: frameloom-studio [PROJECT]\n"
    "Frameloom Studio: write shots as text, generate them locally, cut them on a timeline.\n\n"
    "Arguments:\n"
    "  PROJECT        project file (.flproj) to open\n\n"
    "Options:\n"
    "  -h, --help     show this help\n"
    "  -v, --version  show the version\n\n"
    "Environment:\n"
    "  FL_SCREENSHOT_DIR=DIR  generate the first shot once, write PNGs of the window, storyboard,\n"
    "                         timeline and export dialog into DIR, and quit (scripts/screenshots.sh)\n";

/// Saves `widget` as DIR/name; prints what it wrote or why not.
bool save_grab(QWidget* widget, const QString& dir, const char* name) {
    const QString path = QDir(dir).filePath(QString::fromLatin1(name));
    const bool ok = widget && widget->grab().save(path);
    std::fprintf(ok ? stdout : stderr, "%s %s\n", ok ? "wrote" : "could not write", qUtf8Printable(path));
    return ok;
}

/// The documentation screenshots: generates a variation of the first shot (so the jobs panel shows its step
/// preview and the new take), checks the cuts (badges on the timeline), shows the timeline at frame 20 in
/// the preview, then grabs each part and quits.
void take_screenshots(fl::studio::MainWindow& window, const QString& dir) {
    window.setInteractive(false);  // an error goes to the status bar, not a dialog nobody can answer
    const auto grab_all = [&window, dir] {
        window.previewSequence();
        window.preview()->seek(20);
        QApplication::processEvents();
        bool ok = save_grab(&window, dir, "studio-main-window.png");
        ok = save_grab(window.storyboard(), dir, "studio-storyboard.png") && ok;
        // The timeline with its tool row: the panel holding the scroll area it sits in.
        auto* scroll = window.findChild<QWidget*>(QStringLiteral("timelineScroll"));
        ok = save_grab(scroll ? scroll->parentWidget() : window.timeline(), dir, "studio-timeline.png") && ok;
        fl::studio::ExportDialog* dialog = window.fileExport();
        QApplication::processEvents();
        ok = save_grab(dialog, dir, "studio-export-dialog.png") && ok;
        QApplication::exit(ok ? 0 : 1);
    };
    // After the variation, Timeline ▸ Check cuts, so the timeline shows its cut badges.
    QObject::connect(&window, &fl::studio::MainWindow::cutsChecked, &window,
                     [grab_all](quint64) { QTimer::singleShot(300, grab_all); });
    QObject::connect(&window, &fl::studio::MainWindow::generationFinished, &window,
                     [&window, grab_all](quint64, bool) {
                         if (window.checkCuts() == 0) QTimer::singleShot(300, grab_all);
                     });
    QTimer::singleShot(500, &window, [&window, grab_all] {
        const auto& shots = window.document()->project().shots;
        if (!shots.empty()) window.selectShot(QString::fromStdString(shots.front().id));
        // A variation joins the shot's takes without touching the timeline.
        if (shots.empty() || window.generateVariations(1).isEmpty()) grab_all();
    });
}
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
    if (qEnvironmentVariableIsSet("FL_SCREENSHOT_DIR"))
        take_screenshots(window, qEnvironmentVariable("FL_SCREENSHOT_DIR"));
    return QApplication::exec();
}
