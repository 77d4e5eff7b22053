#include "ui/project_document.h"

#include <QCoreApplication>
#include <QDir>
#include <system_error>

#include "frameloom/core/project_file.h"

namespace fl::studio {

namespace fs = std::filesystem;

ProjectDocument::ProjectDocument(QObject* parent) : QObject(parent), project_(core::Project::make_new()) {}

core::Result<void> ProjectDocument::push(std::unique_ptr<core::Command> command) {
    auto result = stack_.push(project_, std::move(command));
    if (result) emit changed();
    return result;
}

void ProjectDocument::undo() {
    if (!stack_.can_undo()) return;
    stack_.undo(project_);
    emit changed();
}

core::Result<void> ProjectDocument::redo() {
    if (!stack_.can_redo()) return core::ok();
    auto result = stack_.redo(project_);
    emit changed();
    return result;
}

void ProjectDocument::reset_new(const std::string& name) {
    project_ = core::Project::make_new(name);
    stack_.clear();
    stack_.set_clean();
    path_.clear();
    ++epoch_;
    emit replaced();
    emit changed();
}

core::Result<void> ProjectDocument::open(const fs::path& path) {
    auto loaded = core::load_project(path);
    if (!loaded) return loaded.error();
    project_ = std::move(loaded).value();
    stack_.clear();
    stack_.set_clean();
    std::error_code ec;
    fs::path absolute = fs::absolute(path, ec);
    path_ = ec ? path : absolute.lexically_normal();
    ++epoch_;
    emit replaced();
    emit changed();
    return core::ok();
}

core::Result<void> ProjectDocument::save() {
    if (path_.empty()) return core::fail("the project has no file yet: use Save As");
    return save_as(path_);
}

core::Result<void> ProjectDocument::save_as(const fs::path& path) {
    FL_TRY(core::save_project(project_, path));
    std::error_code ec;
    fs::path absolute = fs::absolute(path, ec);
    path_ = ec ? path : absolute.lexically_normal();
    stack_.set_clean();
    emit changed();
    return core::ok();
}

fs::path ProjectDocument::media_dir() const {
    if (!path_.empty()) {
        return path_.parent_path() / (path_.stem().string() + ".media");
    }
    const QString temp =
        QDir::tempPath() + QStringLiteral("/frameloom-%1/media").arg(QCoreApplication::applicationPid());
    return fs::path(temp.toStdString());
}

fs::path ProjectDocument::resolve_media(const std::string& file) const {
    fs::path p(file);
    if (p.is_absolute() || path_.empty()) return p;
    return (path_.parent_path() / p).lexically_normal();
}

std::string ProjectDocument::media_reference(const fs::path& absolute) const {
    if (path_.empty()) return absolute.string();
    const fs::path base = path_.parent_path();
    fs::path rel = absolute.lexically_normal().lexically_relative(base);
    if (rel.empty() || *rel.begin() == "..") return absolute.string();
    return rel.generic_string();
}

}  // namespace fl::studio
