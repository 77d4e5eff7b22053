#include "frameloom/core/media_paths.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <system_error>

#include "frameloom/core/atomic_file.h"

namespace fl::core {

namespace fs = std::filesystem;

fs::path media_folder_for(const fs::path& project_file) {
    return project_file.parent_path() / (project_file.stem().string() + ".media");
}

fs::path resolve_media_reference(const std::string& file, const fs::path& base) {
    if (file.empty()) return {};
    const fs::path p(file);
    if (p.is_absolute() || base.empty()) return p.lexically_normal();
    return (base / p).lexically_normal();
}

bool is_inside(const fs::path& path, const fs::path& folder) {
    if (folder.empty()) return false;
    const fs::path rel = path.lexically_normal().lexically_relative(folder.lexically_normal());
    return !rel.empty() && *rel.begin() != "..";
}

std::string media_reference_for(const fs::path& absolute, const fs::path& base) {
    const fs::path normal = absolute.lexically_normal();
    if (base.empty() || !is_inside(normal, base)) return normal.string();
    const fs::path rel = normal.lexically_relative(base.lexically_normal());
    if (rel == ".") return normal.string();  // the base folder itself is no media file
    return rel.generic_string();
}

Result<void> rebase_media_references(Project& project, const fs::path& old_base, const fs::path& new_base) {
    if (!old_base.is_absolute())
        return fail("cannot move media references: '" + old_base.string() + "' is not an absolute folder");
    if (!new_base.is_absolute())
        return fail("cannot move media references: '" + new_base.string() + "' is not an absolute folder");
    const auto rebase = [&](std::string& file) {
        if (file.empty()) return;
        file = media_reference_for(resolve_media_reference(file, old_base), new_base);
    };
    // Nothing below can fail, so the project is either fully rebased or untouched.
    for (Shot& shot : project.shots)
        for (Take& take : shot.takes) rebase(take.file);
    for (Track& track : project.sequence.tracks)
        for (Clip& clip : track.clips) rebase(clip.source.file);
    return ok();
}

namespace {

/// Calls `visit(reference, take_or_null)` on every media reference of `project`.
void each_reference(Project& project, const std::function<void(std::string&, const Take*)>& visit) {
    const auto plain = [&](std::string& file) { visit(file, nullptr); };
    for (Shot& shot : project.shots) {
        shot.params.conditioning.for_each_file(plain);
        for (Take& take : shot.takes) {
            visit(take.file, &take);
            take.params.conditioning.for_each_file(plain);
        }
    }
    for (Track& track : project.sequence.tracks)
        for (Clip& clip : track.clips) visit(clip.source.file, nullptr);
    for (QueuedGeneration& q : project.queued_generations) q.params.conditioning.for_each_file(plain);
}

bool exists_file(const fs::path& path) {
    std::error_code ec;
    return fs::exists(path, ec);
}

}  // namespace

std::vector<std::string> media_references(const Project& project) {
    std::vector<std::string> out;
    Project copy = project;
    each_reference(copy, [&](std::string& file, const Take*) {
        if (!file.empty()) out.push_back(file);
    });
    return out;
}

std::vector<std::string> missing_media(const Project& project, const fs::path& base) {
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (const std::string& file : media_references(project)) {
        if (!seen.insert(file).second) continue;
        if (!exists_file(resolve_media_reference(file, base))) out.push_back(file);
    }
    return out;
}

RelinkReport relink_missing_media(Project& project, const fs::path& base, const fs::path& folder) {
    // Candidates by file name, in a stable (sorted) order so the same folder always relinks the same way.
    std::map<std::string, std::vector<fs::path>> by_name;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(folder, fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end; it.increment(ec)) {
        std::error_code type_ec;
        if (it->is_regular_file(type_ec)) by_name[it->path().filename().string()].push_back(it->path());
    }
    for (auto& [name, paths] : by_name) std::sort(paths.begin(), paths.end());

    std::map<fs::path, std::string> hashes;  // each candidate hashed at most once
    const auto hash_of = [&](const fs::path& p) -> const std::string& {
        auto it = hashes.find(p);
        if (it == hashes.end()) {
            auto sha = sha256_file(p);
            it = hashes.emplace(p, sha ? *sha : std::string()).first;
        }
        return it->second;
    };
    // Decided per old reference, so a file shared by a take, its clips and a keyframe moves as one.
    std::map<std::string, std::string> decided;  // old reference → new reference ("" = not found)
    const auto find_for = [&](const std::string& file, const Take* take) -> std::string {
        const std::string want_sha = take ? take->sha256 : std::string();
        const std::string key = file + '\n' + want_sha;
        if (auto it = decided.find(key); it != decided.end()) return it->second;
        std::string found;
        const fs::path old = resolve_media_reference(file, base);
        if (auto it = by_name.find(old.filename().string()); it != by_name.end()) {
            for (const fs::path& candidate : it->second) {
                if (!want_sha.empty() && hash_of(candidate) != want_sha)
                    continue;  // same name, other content
                found = media_reference_for(fs::absolute(candidate, ec).lexically_normal(), base);
                break;
            }
        }
        decided[key] = found;
        return found;
    };

    RelinkReport report;
    std::map<std::string, std::string> take_moves;  // old take file → new (for the clips showing it)
    std::map<std::pair<std::string, std::string>, std::string> take_file_by_id;
    for (Shot& shot : project.shots)
        for (Take& take : shot.takes) take_file_by_id[{shot.id, take.id}] = take.file;
    std::set<std::string> still_missing;
    std::vector<std::string> missing_order;
    const auto visit = [&](std::string& file, const Take* take) {
        if (file.empty() || exists_file(resolve_media_reference(file, base))) return;
        const std::string found = find_for(file, take);
        if (found.empty()) {
            if (still_missing.insert(file).second) missing_order.push_back(file);
            return;
        }
        file = found;
        ++report.relinked;
    };
    // Takes first, so clips can follow the take they show (and its hash check).
    for (Shot& shot : project.shots)
        for (Take& take : shot.takes) {
            const std::string before = take.file;
            visit(take.file, &take);
            if (take.file != before) take_moves[before] = take.file;
        }
    for (Track& track : project.sequence.tracks)
        for (Clip& clip : track.clips) {
            if (clip.source.file.empty() || exists_file(resolve_media_reference(clip.source.file, base)))
                continue;
            if (auto it = take_moves.find(clip.source.file);
                it != take_moves.end() && !clip.source.take_id.empty()) {
                clip.source.file = it->second;
                ++report.relinked;
                continue;
            }
            // A clip showing a take that could not be relinked stays missing too (same content rule).
            auto owner = take_file_by_id.find({clip.source.shot_id, clip.source.take_id});
            if (owner != take_file_by_id.end() && owner->second == clip.source.file) {
                if (still_missing.insert(clip.source.file).second) missing_order.push_back(clip.source.file);
                continue;
            }
            visit(clip.source.file, nullptr);
        }
    const auto plain = [&](std::string& file) { visit(file, nullptr); };
    for (Shot& shot : project.shots) {
        shot.params.conditioning.for_each_file(plain);
        for (Take& take : shot.takes) take.params.conditioning.for_each_file(plain);
    }
    for (QueuedGeneration& q : project.queued_generations) q.params.conditioning.for_each_file(plain);
    report.missing = std::move(missing_order);
    return report;
}

Result<void> copy_file_no_clobber(const fs::path& source, const fs::path& target) {
    std::error_code ec;
    if (fs::exists(target, ec))
        return fail("cannot copy " + source.string() + ": " + target.string() + " already exists");
    auto pending = PendingFile::create(target);  // removes its temp file unless committed
    if (!pending) return pending.error();
    if (!fs::copy_file(source, pending->temp_path(), fs::copy_options::none, ec))
        return fail("cannot copy " + source.string() + " to " + target.string() + ": " + ec.message());
    const int fd = ::open(pending->temp_path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::fsync(fd) != 0) {
        const std::string why = std::strerror(errno);
        if (fd >= 0) ::close(fd);
        return fail("cannot copy " + source.string() + " to " + target.string() + ": " + why);
    }
    ::close(fd);
    // link() fails with EEXIST instead of replacing, unlike rename(): a file that appeared meanwhile is kept.
    if (::link(pending->temp_path().c_str(), target.c_str()) != 0) {
        // Filesystems without hard links: check, then rename (a narrow race instead of a refusal).
        if ((errno == EPERM || errno == EOPNOTSUPP) && !fs::exists(target, ec) &&
            std::rename(pending->temp_path().c_str(), target.c_str()) == 0)
            return ok();
        const std::string why = errno == EEXIST ? std::string("it already exists") : std::strerror(errno);
        return fail("cannot copy " + source.string() + " to " + target.string() + ": " + why);
    }
    const int dir = ::open(target.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
        (void)::fsync(dir);  // best effort: some filesystems refuse fsync on folders
        ::close(dir);
    }
    return ok();
}

}  // namespace fl::core
