#include "ui/project_document.h"

#include <QCoreApplication>
#include <QDir>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>
#include <system_error>

#include "frameloom/core/atomic_file.h"
#include "frameloom/core/media_paths.h"
#include "frameloom/core/project_file.h"

namespace fl::studio {

namespace fs = std::filesystem;

namespace {

/// Calls `visit` on every media reference of a project (the ones rebase_media_references moves).
void for_each_media_reference(core::Project& project, const std::function<void(std::string&)>& visit) {
    for (core::Shot& shot : project.shots)
        for (core::Take& take : shot.takes) visit(take.file);
    for (core::Track& track : project.sequence.tracks)
        for (core::Clip& clip : track.clips) visit(clip.source.file);
}

/// Calls `visit` on every file a shot or take is conditioned on (keyframes, extended clips, references).
/// rebase_media_references leaves these alone, so save_as rebases them itself.
void for_each_conditioning_file(core::Project& project, const std::function<void(std::string&)>& visit) {
    const auto each = [&](core::Conditioning& c) { c.for_each_file(visit); };
    for (core::Shot& shot : project.shots) {
        each(shot.params.conditioning);
        for (core::Take& take : shot.takes) each(take.params.conditioning);
    }
    for (core::QueuedGeneration& q : project.queued_generations) each(q.params.conditioning);
}

/// Restoring an autosave or relinking media: the whole project replaced, and put back by undo.
class ReplaceProject final : public core::Command {
public:
    explicit ReplaceProject(core::Project project, std::string text = "Restore autosave")
        : new_(std::move(project)), text_(std::move(text)) {}
    core::Result<void> redo(core::Project& p) override {
        FL_TRY(new_.check_invariants());
        old_ = std::move(p);
        p = new_;
        return core::ok();
    }
    void undo(core::Project& p) override { p = old_; }
    std::string text() const override { return text_; }

private:
    core::Project new_;
    core::Project old_;
    std::string text_;
};

/// "name.mp4" → "name-2.mp4", "name-3.mp4", ... for the n-th alternative.
fs::path numbered(const fs::path& path, int n) {
    fs::path out = path;
    out.replace_filename(path.stem().string() + "-" + std::to_string(n) + path.extension().string());
    return out;
}

}  // namespace

core::Project make_starter_project(const core::GenerationParams& defaults) {
    core::Project project = core::Project::make_new();
    core::Shot shot;
    shot.id = project.fresh_id("shot");
    shot.name = "Shot 1";
    shot.params = defaults;
    shot.params.prompt = kExamplePrompt;
    project.shots.push_back(std::move(shot));
    return project;
}

ProjectDocument::ProjectDocument(QObject* parent) : QObject(parent), project_(core::Project::make_new()) {
    // One unsaved-media folder per document, so two windows (or test cases) never share or delete
    // each other's takes.
    std::string tmpl =
        (QDir::tempPath() + QStringLiteral("/frameloom-%1-XXXXXX").arg(QCoreApplication::applicationPid()))
            .toStdString();
    if (::mkdtemp(tmpl.data())) {
        unsaved_root_ = tmpl;
    } else {
        unsaved_root_ =
            (QDir::tempPath() + QStringLiteral("/frameloom-%1").arg(QCoreApplication::applicationPid()))
                .toStdString();
    }
    unsaved_media_ = unsaved_root_ / "media";
}

ProjectDocument::~ProjectDocument() {
    // Saving copies unsaved media into "<project>.media/", so normally nothing saved points here. A file
    // that the saved project or its autosave still references (a copy failed and the user saved anyway
    // elsewhere, a take that finished after the save and is only in the autosave) is kept; only files no
    // project references are deleted.
    std::error_code ec;
    if (!fs::exists(unsaved_root_, ec)) return;
    std::set<fs::path> keep;
    if (!path_.empty()) {
        const fs::path base = path_.parent_path();
        for (const fs::path& file : {path_, autosave_path()}) {
            if (!fs::exists(file, ec)) continue;
            auto saved = core::load_project(file);
            if (!saved) return;  // cannot tell what it references: delete nothing
            for (const std::string& ref : core::media_references(*saved))
                keep.insert(core::resolve_media_reference(ref, base));
        }
    }
    std::vector<fs::path> unreferenced;
    bool kept_any = false;
    for (fs::recursive_directory_iterator it(unsaved_root_, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code type_ec;
        if (!it->is_regular_file(type_ec)) continue;
        if (keep.count(it->path().lexically_normal()))
            kept_any = true;
        else
            unreferenced.push_back(it->path());
    }
    if (ec) return;  // could not list it all: delete nothing rather than guess
    if (!kept_any) {
        fs::remove_all(unsaved_root_, ec);
        return;
    }
    for (const fs::path& file : unreferenced) fs::remove(file, ec);
}

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

void ProjectDocument::reset_new(const std::string& name) { reset_new(core::Project::make_new(name)); }

void ProjectDocument::reset_new(core::Project project) {
    project_ = std::move(project);
    stack_.clear();
    stack_.set_clean();
    path_.clear();
    former_media_.clear();
    ++epoch_;
    emit replaced();
    emit changed();
}

core::Result<void> ProjectDocument::open(const fs::path& path) {
    auto loaded = core::load_project(path);
    if (!loaded) return loaded.error();
    project_ = std::move(loaded).value();
    queued_on_open_ = std::exchange(project_.queued_generations, {});
    stack_.clear();
    stack_.set_clean();
    std::error_code ec;
    fs::path absolute = fs::absolute(path, ec);
    path_ = ec ? path : absolute.lexically_normal();
    former_media_.clear();
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
    std::error_code ec;
    fs::path target = fs::absolute(path, ec);
    if (ec) return core::fail("cannot save " + path.string() + ": " + ec.message());
    target = target.lexically_normal();
    if (target.filename().empty()) return core::fail("cannot save '" + path.string() + "': not a file name");
    const fs::path new_base = target.parent_path();
    const fs::path new_media = core::media_folder_for(target);
    // An unsaved project stores absolute references; anything relative in it is relative to the
    // working folder, as resolve_media() reads it.
    const fs::path old_base = path_.empty() ? fs::current_path(ec) : path_.parent_path();
    if (ec) return core::fail("cannot save " + target.string() + ": " + ec.message());

    // Folders whose files belong to this document and so travel with it: the unsaved-media folder, the
    // current "<project>.media/" and the ones it had before (takes that finish after a Save As land there).
    std::vector<fs::path> owned{unsaved_media_};
    if (!path_.empty()) owned.push_back(media_dir());
    owned.insert(owned.end(), former_media_.begin(), former_media_.end());
    // The unsaved-media folder of another session ("$TMP/frameloom-<pid>-XXXXXX/media"): a take that
    // finished there after a save is referenced by the autosave, and restoring that autosave brings the
    // reference here. Temporary folders do not last, so such media travels with the project too.
    const fs::path temp_root = fs::path(QDir::tempPath().toStdString()).lexically_normal();
    const auto session_media_of = [&](const fs::path& file) -> fs::path {
        if (!core::is_inside(file, temp_root)) return {};
        const fs::path rel = file.lexically_normal().lexically_relative(temp_root);
        auto part = rel.begin();
        if (part == rel.end() || part->string().rfind("frameloom-", 0) != 0) return {};
        const fs::path root = temp_root / *part;
        if (++part == rel.end() || *part != "media") return {};
        return root / "media";
    };
    const auto owner_of = [&](const fs::path& file) -> fs::path {
        if (core::is_inside(file, new_media)) return {};  // already where it belongs
        for (const fs::path& folder : owned)
            if (core::is_inside(file, folder)) return folder;
        return session_media_of(file);
    };

    // Plan the copies: source → destination inside new_media (same relative name, numbered on a clash
    // with a different file; an identical file already there is reused).
    struct Copy {
        fs::path to;
        bool needed = true;
    };
    std::map<fs::path, Copy> copies;
    std::set<fs::path> destinations;
    core::Project next = project_;
    if (queued_provider_) next.queued_generations = queued_provider_();
    const auto plan_copy = [&](std::string& file) {
        if (file.empty()) return;
        const fs::path source = core::resolve_media_reference(file, old_base);
        const fs::path folder = owner_of(source);
        if (folder.empty() || copies.count(source)) return;
        std::error_code exists_ec;
        if (!fs::is_regular_file(source, exists_ec)) return;  // missing: nothing to copy, keep the reference
        const fs::path wanted = new_media / source.lexically_relative(folder);
        Copy copy;
        for (int n = 1;; ++n) {
            copy.to = n == 1 ? wanted : numbered(wanted, n);
            if (destinations.count(copy.to)) continue;
            if (!fs::exists(copy.to, exists_ec)) break;
            auto a = core::sha256_file(source);
            auto b = core::sha256_file(copy.to);
            if (a && b && *a == *b) {
                copy.needed = false;
                break;
            }
        }
        destinations.insert(copy.to);
        copies.emplace(source, copy);
    };
    for_each_media_reference(next, plan_copy);
    // Keyframes exported into the media folder (e.g. "last frame → next shot") travel with it too.
    for_each_conditioning_file(next, plan_copy);

    // Copy; on any failure remove what this save created, so disk and memory stay as they were.
    std::vector<fs::path> created;
    bool created_folder = false;
    const auto roll_back = [&] {
        std::error_code rm;
        for (const fs::path& file : created) fs::remove(file, rm);
        if (created_folder) fs::remove_all(new_media, rm);
    };
    for (const auto& [source, copy] : copies) {
        if (!copy.needed) continue;
        const fs::path folder = copy.to.parent_path();
        if (!fs::is_directory(folder, ec)) {
            const bool had_media_folder = fs::exists(new_media, ec);
            fs::create_directories(folder, ec);
            if (ec) {
                roll_back();
                return core::fail("cannot save " + target.string() + ": cannot create media folder " +
                                  folder.string() + ": " + ec.message());
            }
            if (!had_media_folder) created_folder = true;
        }
        if (auto copied = core::copy_file_no_clobber(source, copy.to); !copied) {
            roll_back();
            return core::fail("cannot save " + target.string() + ": " + copied.message());
        }
        created.push_back(copy.to);
        auto from_sha = core::sha256_file(source);
        auto to_sha = core::sha256_file(copy.to);
        if (!from_sha || !to_sha || *from_sha != *to_sha) {
            roll_back();
            return core::fail("cannot save " + target.string() + ": the copy of " + source.string() +
                              " does not match the original");
        }
    }

    // Point the references at the copies, then store them relative to the new folder where possible.
    const auto point_at_copy = [&](std::string& file) {
        if (file.empty()) return;
        auto it = copies.find(core::resolve_media_reference(file, old_base));
        if (it != copies.end()) file = it->second.to.string();
    };
    for_each_media_reference(next, point_at_copy);
    for_each_conditioning_file(next, point_at_copy);
    for_each_conditioning_file(next, [&](std::string& file) {
        if (file.empty()) return;
        file = core::media_reference_for(core::resolve_media_reference(file, old_base), new_base);
    });
    if (auto rebased = core::rebase_media_references(next, old_base, new_base); !rebased) {
        roll_back();
        return rebased.error();
    }
    if (auto valid = next.check_invariants(); !valid) {
        roll_back();
        return core::fail("cannot save " + target.string() + ": " + valid.message());
    }
    if (auto saved = core::save_project(next, target); !saved) {
        roll_back();
        return saved.error();
    }

    // Relative references kept in the undo history were written for the old folder; once the folder
    // changes they would resolve to nothing, so that history cannot be replayed safely.
    const bool history_stale = !path_.empty() && old_base != new_base;
    remove_autosave();  // the saved file holds everything the autosave did
    if (!path_.empty() && media_dir() != new_media) former_media_.push_back(media_dir());
    next.queued_generations.clear();  // saved in the file; the jobs themselves live in the queue
    project_ = std::move(next);
    path_ = target;
    if (history_stale) stack_.clear();
    stack_.set_clean();
    remove_autosave();
    emit changed();
    return core::ok();
}

fs::path ProjectDocument::autosave_path() const {
    if (path_.empty()) return {};
    fs::path side = path_;
    side += ".autosave";
    return side;
}

core::Result<bool> ProjectDocument::write_autosave() {
    const fs::path side = autosave_path();
    if (side.empty()) return false;
    // Media references are relative to the project's folder, which is the autosave's folder too.
    core::Project copy = project_;
    if (queued_provider_) copy.queued_generations = queued_provider_();
    FL_TRY(core::write_file_atomically(side, core::project_to_json(copy)));
    return true;
}

bool ProjectDocument::has_newer_autosave() const {
    const fs::path side = autosave_path();
    if (side.empty()) return false;
    std::error_code ec;
    if (!fs::is_regular_file(side, ec)) return false;
    const auto autosaved = fs::last_write_time(side, ec);
    if (ec) return false;
    const auto saved = fs::last_write_time(path_, ec);
    return ec || autosaved > saved;
}

core::Result<void> ProjectDocument::restore_autosave() {
    const fs::path side = autosave_path();
    if (side.empty()) return core::fail("the project has no file, so it has no autosave");
    auto loaded = core::load_project(side);
    if (!loaded) return core::fail("cannot restore the autosave: " + loaded.message());
    std::vector<core::QueuedGeneration> queued = std::exchange(loaded->queued_generations, {});
    FL_TRY(push(std::make_unique<ReplaceProject>(std::move(loaded).value())));
    queued_on_open_ = std::move(queued);  // the autosave's unfinished jobs replace the file's
    return core::ok();
}

std::vector<std::string> ProjectDocument::missing_media() const {
    return core::missing_media(project_, path_.empty() ? fs::current_path() : path_.parent_path());
}

core::Result<std::vector<std::string>> ProjectDocument::relink_missing(const fs::path& folder) {
    std::error_code ec;
    if (!fs::is_directory(folder, ec))
        return core::fail("cannot relink media: " + folder.string() + " is not a folder");
    core::Project next = project_;
    const fs::path base = path_.empty() ? fs::current_path() : path_.parent_path();
    core::RelinkReport report = core::relink_missing_media(next, base, folder);
    if (report.relinked > 0) FL_TRY(push(std::make_unique<ReplaceProject>(std::move(next), "Relink media")));
    return report.missing;
}

void ProjectDocument::remove_autosave() {
    const fs::path side = autosave_path();
    if (side.empty()) return;
    std::error_code ec;
    fs::remove(side, ec);
}

fs::path ProjectDocument::media_dir() const {
    if (!path_.empty()) return core::media_folder_for(path_);
    return unsaved_media_;
}

fs::path ProjectDocument::resolve_media(const std::string& file) const {
    return core::resolve_media_reference(file, path_.empty() ? fs::path() : path_.parent_path());
}

std::string ProjectDocument::media_reference(const fs::path& absolute) const {
    return core::media_reference_for(absolute, path_.empty() ? fs::path() : path_.parent_path());
}

}  // namespace fl::studio
