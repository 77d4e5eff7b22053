#include "ui/thumbnail_cache.h"

#include <system_error>

#include "frameloom/media/decode.h"

namespace fl::studio {

namespace fs = std::filesystem;

QImage to_qimage(const core::Frame& frame) {
    if (frame.empty()) return {};
    QImage view(frame.rgb.data(), frame.width, frame.height, frame.width * 3, QImage::Format_RGB888);
    return view.copy();
}

QPixmap ThumbnailCache::first_frame(const fs::path& file, int max_side) {
    std::error_code ec;
    const auto size = fs::file_size(file, ec);
    if (ec) return {};
    const auto mtime = fs::last_write_time(file, ec).time_since_epoch().count();
    // Size and time are in the key so that a file replaced under the same name is decoded again.
    const std::string key = file.string() + "|" + std::to_string(size) + "|" + std::to_string(mtime) + "|" +
                            std::to_string(max_side);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    QPixmap pixmap;
    if (auto frame = media::decode_image(file)) {
        const QImage image = to_qimage(*frame);
        // Small model outputs (64 px) are scaled up without smoothing so the pixels stay readable.
        const Qt::TransformationMode mode =
            image.width() < max_side ? Qt::FastTransformation : Qt::SmoothTransformation;
        pixmap = QPixmap::fromImage(image.scaled(max_side, max_side, Qt::KeepAspectRatio, mode));
    }
    cache_.emplace(key, pixmap);
    return pixmap;
}

}  // namespace fl::studio
