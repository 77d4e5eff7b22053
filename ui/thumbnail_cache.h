#pragma once
/// First frames of media files as small images, decoded once per file (keyed by path and size on disk).

#include <QImage>
#include <QPixmap>
#include <filesystem>
#include <map>
#include <string>

#include "frameloom/core/frame.h"

namespace fl::studio {

/// Decodes with fl::media on the GUI thread: takes are short and small, and each file is decoded once.
class ThumbnailCache {
public:
    /// Thumbnail (at most `max_side` px) of the first frame of `file`; a null pixmap when it cannot be read.
    QPixmap first_frame(const std::filesystem::path& file, int max_side = 96);
    /// Drops every entry (after a project was replaced).
    void clear() { cache_.clear(); }

private:
    std::map<std::string, QPixmap> cache_;
};

/// A core frame as a QImage (deep copy; RGB888).
QImage to_qimage(const core::Frame& frame);

}  // namespace fl::studio
