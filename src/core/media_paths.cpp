#include "frameloom/core/media_paths.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
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
