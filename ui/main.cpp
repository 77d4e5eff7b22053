// frameloom-studio [PROJECT]: the Qt 6 studio. Opens PROJECT when given.

#include <QApplication>
#include <QCommandLineParser>

#include "ui/main_window.h"

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName("Frameloom Studio");
    QApplication::setOrganizationName("Frameloom");
    QApplication::setApplicationVersion(QStringLiteral(FL_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription("Write shots as text, generate them locally, cut them on a timeline.");
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument("project", "Project file (.flproj) to open.", "[PROJECT]");
    parser.process(app);

    fl::studio::MainWindow window;
    window.show();
    const QStringList args = parser.positionalArguments();
    if (!args.isEmpty()) window.openProject(args.front());
    return QApplication::exec();
}
