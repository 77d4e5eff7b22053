#include "inference/zip_reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

namespace fl::inference {

namespace {

constexpr uint32_t kEocd = 0x06054b50;
constexpr uint32_t kZip64Eocd = 0x06064b50;
constexpr uint32_t kZip64Locator = 0x07064b50;
constexpr uint32_t kCentral = 0x02014b50;
constexpr uint32_t kLocal = 0x04034b50;
constexpr size_t kMaxEntries = 1u << 20;

uint16_t rd16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t rd32(const uint8_t* p) {
    return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
           (static_cast<uint32_t>(p[3]) << 24);
}
uint64_t rd64(const uint8_t* p) { return static_cast<uint64_t>(rd32(p)) | (static_cast<uint64_t>(rd32(p + 4)) << 32); }

/// True when [off, off + len) lies inside a buffer of `size` bytes (overflow-safe).
bool fits(uint64_t off, uint64_t len, uint64_t size) { return off <= size && len <= size - off; }

const std::array<uint32_t, 256>& crc_table() {
    static const auto table = [] {
        std::array<uint32_t, 256> t{};
        for (uint32_t i = 0; i < 256; ++i) {
            uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[i] = c;
        }
        return t;
    }();
    return table;
}

}  // namespace

uint32_t crc32_update(uint32_t crc, const uint8_t* data, size_t size) {
    const auto& t = crc_table();
    uint32_t c = crc ^ 0xFFFFFFFFu;
    for (size_t i = 0; i < size; ++i) c = t[(c ^ data[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

core::Result<ZipReader> ZipReader::open(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return core::fail("cannot open " + path.string() + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return core::fail("cannot read " + path.string() + ": not a regular file");
    }
    ZipReader z;
    z.label_ = path.string();
    z.size_ = static_cast<size_t>(st.st_size);
    if (z.size_ > 0) {
        void* m = ::mmap(nullptr, z.size_, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            ::close(fd);
            return core::fail("cannot map " + path.string() + ": " + std::strerror(errno));
        }
        z.base_ = static_cast<const uint8_t*>(m);
        z.mapped_ = true;
    }
    ::close(fd);
    FL_TRY(z.parse());
    return z;
}

core::Result<ZipReader> ZipReader::from_memory(const uint8_t* data, size_t size, std::string label) {
    ZipReader z;
    z.label_ = std::move(label);
    z.base_ = data;
    z.size_ = size;
    FL_TRY(z.parse());
    return z;
}

ZipReader::ZipReader(ZipReader&& o) noexcept { *this = std::move(o); }

ZipReader& ZipReader::operator=(ZipReader&& o) noexcept {
    if (this != &o) {
        if (mapped_ && base_) ::munmap(const_cast<uint8_t*>(base_), size_);
        label_ = std::move(o.label_);
        entries_ = std::move(o.entries_);
        base_ = std::exchange(o.base_, nullptr);
        size_ = std::exchange(o.size_, 0);
        mapped_ = std::exchange(o.mapped_, false);
    }
    return *this;
}

ZipReader::~ZipReader() {
    if (mapped_ && base_) ::munmap(const_cast<uint8_t*>(base_), size_);
}

const ZipEntry* ZipReader::find(const std::string& name) const {
    auto it = entries_.find(name);
    return it == entries_.end() ? nullptr : &it->second;
}

core::Result<void> ZipReader::verify(const ZipEntry& entry) const {
    const uint32_t crc = crc32_update(0, data(entry), entry.size);
    if (crc != entry.crc32)
        return core::fail("corrupt archive: " + label_ + " entry '" + entry.name +
                          "' fails its CRC check (re-download the file)");
    return core::ok();
}

core::Result<void> ZipReader::parse() {
    const std::string not_zip = "not a readable torch archive: " + label_;
    if (size_ < 22) return core::fail(not_zip + " is too small to be a zip file (truncated download?)");
    // The end-of-central-directory record sits in the last 22 + 65535 bytes.
    const size_t lowest = size_ > 22 + 65535 ? size_ - 22 - 65535 : 0;
    size_t eocd = size_;
    for (size_t p = size_ - 22 + 1; p-- > lowest;) {
        if (rd32(base_ + p) == kEocd) {
            eocd = p;
            break;
        }
    }
    if (eocd == size_) return core::fail(not_zip + " has no zip directory (truncated or not a .pth file)");
    const uint8_t* e = base_ + eocd;
    uint64_t count = rd16(e + 10);
    uint64_t cd_size = rd32(e + 12);
    uint64_t cd_off = rd32(e + 16);
    if (count == 0xFFFF || cd_size == 0xFFFFFFFFu || cd_off == 0xFFFFFFFFu) {
        // ZIP64: a locator right before the EOCD points at the 64-bit record.
        if (eocd < 20 || rd32(base_ + eocd - 20) != kZip64Locator)
            return core::fail(not_zip + ": ZIP64 locator missing (truncated file?)");
        const uint64_t z64 = rd64(base_ + eocd - 20 + 8);
        if (!fits(z64, 56, size_) || rd32(base_ + z64) != kZip64Eocd)
            return core::fail(not_zip + ": ZIP64 directory record is out of bounds (truncated file?)");
        count = rd64(base_ + z64 + 32);
        cd_size = rd64(base_ + z64 + 40);
        cd_off = rd64(base_ + z64 + 48);
    }
    if (!fits(cd_off, cd_size, size_))
        return core::fail(not_zip + ": zip directory lies outside the file (truncated download?)");
    if (count > kMaxEntries) return core::fail(not_zip + ": zip directory claims too many entries");
    uint64_t p = cd_off;
    const uint64_t cd_end = cd_off + cd_size;
    for (uint64_t i = 0; i < count; ++i) {
        if (!fits(p, 46, cd_end) || rd32(base_ + p) != kCentral)
            return core::fail(not_zip + ": zip directory entry " + std::to_string(i) + " is malformed");
        const uint8_t* c = base_ + p;
        const uint16_t method = rd16(c + 10);
        ZipEntry entry;
        entry.crc32 = rd32(c + 16);
        uint64_t csize = rd32(c + 20);
        uint64_t usize = rd32(c + 24);
        const uint16_t name_len = rd16(c + 28);
        const uint16_t extra_len = rd16(c + 30);
        const uint16_t comment_len = rd16(c + 32);
        uint64_t local = rd32(c + 42);
        if (!fits(p + 46, uint64_t{name_len} + extra_len + comment_len, cd_end))
            return core::fail(not_zip + ": zip directory entry " + std::to_string(i) + " runs past the directory");
        entry.name.assign(reinterpret_cast<const char*>(c + 46), name_len);
        // ZIP64 extended information: 64-bit values for the fields saturated at 0xFFFFFFFF, in this order.
        const uint8_t* x = c + 46 + name_len;
        for (uint32_t q = 0; q + 4 <= extra_len;) {
            const uint16_t id = rd16(x + q);
            const uint16_t len = rd16(x + q + 2);
            if (q + 4u + len > extra_len) break;
            if (id == 0x0001) {
                const uint8_t* f = x + q + 4;
                uint32_t left = len;
                auto take = [&](uint64_t& v) {
                    if (v != 0xFFFFFFFFu) return true;
                    if (left < 8) return false;
                    v = rd64(f);
                    f += 8;
                    left -= 8;
                    return true;
                };
                if (!take(usize) || !take(csize) || !take(local))
                    return core::fail(not_zip + ": ZIP64 field of '" + entry.name + "' is truncated");
            }
            q += 4u + len;
        }
        if (method != 0)
            return core::fail("unsupported torch archive: " + label_ + " entry '" + entry.name +
                              "' is compressed (method " + std::to_string(method) +
                              "); re-save it with torch.save, which stores entries uncompressed");
        if (csize != usize)
            return core::fail(not_zip + ": entry '" + entry.name + "' has inconsistent sizes (" +
                              std::to_string(csize) + " vs " + std::to_string(usize) + " bytes)");
        if (!fits(local, 30, size_) || rd32(base_ + local) != kLocal)
            return core::fail(not_zip + ": local header of '" + entry.name + "' is out of bounds (truncated?)");
        const uint64_t data = local + 30 + rd16(base_ + local + 26) + rd16(base_ + local + 28);
        if (!fits(data, usize, size_))
            return core::fail("model file truncated: " + label_ + " entry '" + entry.name + "' needs " +
                              std::to_string(usize) + " bytes at offset " + std::to_string(data) + ", file holds " +
                              std::to_string(size_) + " bytes (re-download it)");
        entry.data_offset = data;
        entry.size = usize;
        entries_[entry.name] = entry;
        p += 46 + uint64_t{name_len} + extra_len + comment_len;
    }
    return core::ok();
}

}  // namespace fl::inference
