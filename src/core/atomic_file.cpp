#include "frameloom/core/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>

namespace fl::core {
namespace fs = std::filesystem;

namespace {

std::string errno_text() { return std::strerror(errno); }

fs::path temp_name_for(const fs::path& target) {
    static std::atomic<uint64_t> counter{0};
    std::random_device rd;
    const uint64_t tag = (static_cast<uint64_t>(rd()) << 16) ^ counter.fetch_add(1) ^ static_cast<uint64_t>(getpid());
    char suffix[40];
    std::snprintf(suffix, sizeof suffix, ".tmp-%012llx", static_cast<unsigned long long>(tag & 0xffffffffffffULL));
    // Keep the extension last so muxers that guess the format from the name still work.
    fs::path temp = target;
    std::string name(1, '.');
    name.append(target.stem().string()).append(suffix).append(target.extension().string());
    temp.replace_filename(name);
    return temp;
}

Result<void> check_folder(const fs::path& target) {
    if (target.empty() || target.filename().empty())
        return fail("cannot write '" + target.string() + "': not a file name");
    const fs::path folder = target.parent_path().empty() ? fs::path(".") : target.parent_path();
    std::error_code ec;
    if (!fs::is_directory(folder, ec))
        return fail("cannot write " + target.string() + ": folder " + folder.string() +
                    " does not exist (create it or choose another path)");
    if (::access(folder.c_str(), W_OK) != 0)
        return fail("cannot write " + target.string() + ": folder " + folder.string() +
                    " is not writable (choose another path)");
    if (fs::is_directory(target, ec))
        return fail("cannot write " + target.string() + ": it is a folder (give a file name)");
    return ok();
}

Result<void> fsync_path(const fs::path& path, bool directory) {
    const int fd = ::open(path.c_str(), directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
    if (fd < 0) return fail("cannot open " + path.string() + ": " + errno_text());
    const int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0 && !directory) return fail("cannot flush " + path.string() + " to disk: " + errno_text());
    return ok();
}

Result<void> rename_into_place(const fs::path& temp, const fs::path& target) {
    FL_TRY(fsync_path(temp, false));
    if (std::rename(temp.c_str(), target.c_str()) != 0) {
        const std::string why = errno_text();
        std::error_code ec;
        fs::remove(temp, ec);
        return fail("cannot write " + target.string() + ": " + why);
    }
    const fs::path folder = target.parent_path().empty() ? fs::path(".") : target.parent_path();
    (void)fsync_path(folder, true);  // best effort: some filesystems refuse fsync on folders
    return ok();
}

}  // namespace

Result<void> write_file_atomically(const fs::path& target, std::string_view bytes) {
    FL_TRY(check_folder(target));
    const fs::path temp = temp_name_for(target);
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return fail("cannot write " + target.string() + ": " + errno_text());
    size_t written = 0;
    while (written < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
        if (n < 0) {
            if (errno == EINTR) continue;
            const std::string why = errno_text();
            ::close(fd);
            ::unlink(temp.c_str());
            return fail("cannot write " + target.string() + ": " + why);
        }
        written += static_cast<size_t>(n);
    }
    if (::close(fd) != 0) {
        const std::string why = errno_text();
        ::unlink(temp.c_str());
        return fail("cannot write " + target.string() + ": " + why);
    }
    return rename_into_place(temp, target);
}

PendingFile::PendingFile(fs::path target, fs::path temp) : target_(std::move(target)), temp_(std::move(temp)) {}

Result<PendingFile> PendingFile::create(const fs::path& target) {
    FL_TRY(check_folder(target));
    return PendingFile(target, temp_name_for(target));
}

PendingFile::PendingFile(PendingFile&& other) noexcept
    : target_(std::move(other.target_)), temp_(std::move(other.temp_)), committed_(other.committed_) {
    other.committed_ = true;  // the moved-from object owns nothing
}

PendingFile& PendingFile::operator=(PendingFile&& other) noexcept {
    if (this != &other) {
        if (!committed_) {
            std::error_code ec;
            fs::remove(temp_, ec);
        }
        target_ = std::move(other.target_);
        temp_ = std::move(other.temp_);
        committed_ = other.committed_;
        other.committed_ = true;
    }
    return *this;
}

PendingFile::~PendingFile() {
    if (!committed_) {
        std::error_code ec;
        fs::remove(temp_, ec);
    }
}

Result<void> PendingFile::commit() {
    if (committed_) return fail("internal: file " + target_.string() + " already committed");
    std::error_code ec;
    if (!fs::exists(temp_, ec)) return fail("cannot write " + target_.string() + ": nothing was written");
    FL_TRY(rename_into_place(temp_, target_));
    committed_ = true;
    return ok();
}

// ---- SHA-256 (FIPS 180-4) ----
namespace {

class Sha256 {
public:
    void update(const uint8_t* data, size_t len) {
        total_ += len;
        while (len > 0) {
            const size_t take = std::min(len, size_t{64} - fill_);
            std::memcpy(block_.data() + fill_, data, take);
            fill_ += take;
            data += take;
            len -= take;
            if (fill_ == 64) {
                compress(block_.data());
                fill_ = 0;
            }
        }
    }

    std::string hex() {
        const uint64_t bits = total_ * 8;
        const uint8_t pad = 0x80;
        update(&pad, 1);
        const uint8_t zero = 0;
        while (fill_ != 56) update(&zero, 1);
        uint8_t len_be[8];
        for (int i = 0; i < 8; ++i) len_be[i] = static_cast<uint8_t>(bits >> (56 - 8 * i));
        update(len_be, 8);
        static const char* digits = "0123456789abcdef";
        std::string out;
        for (const uint32_t word : h_)
            for (int shift = 28; shift >= 0; shift -= 4) out += digits[(word >> shift) & 0xf];
        return out;
    }

private:
    static uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

    void compress(const uint8_t* p) {
        static constexpr uint32_t k[64] = {
            0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
            0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
            0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
            0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
            0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
            0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
            0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
            0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
        uint32_t w[64];
        for (int i = 0; i < 16; ++i)
            w[i] = (uint32_t{p[4 * i]} << 24) | (uint32_t{p[4 * i + 1]} << 16) | (uint32_t{p[4 * i + 2]} << 8) |
                   uint32_t{p[4 * i + 3]};
        for (int i = 16; i < 64; ++i) {
            const uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
            const uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6], h = h_[7];
        for (int i = 0; i < 64; ++i) {
            const uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
            const uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        h_[0] += a; h_[1] += b; h_[2] += c; h_[3] += d; h_[4] += e; h_[5] += f; h_[6] += g; h_[7] += h;
    }

    std::array<uint32_t, 8> h_{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                               0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    std::array<uint8_t, 64> block_{};
    size_t fill_ = 0;
    uint64_t total_ = 0;
};

}  // namespace

std::string sha256_hex(std::string_view bytes) {
    Sha256 h;
    h.update(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    return h.hex();
}

Result<std::string> read_file(const fs::path& path) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) return fail("cannot read " + path.string() + ": it is a folder");
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail("cannot read " + path.string() + ": " + errno_text());
    std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (in.bad()) return fail("cannot read " + path.string() + ": read error");
    return bytes;
}

Result<std::string> sha256_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail("cannot read " + path.string() + ": " + errno_text());
    Sha256 h;
    std::array<char, 1 << 16> buf;
    while (in) {
        in.read(buf.data(), buf.size());
        h.update(reinterpret_cast<const uint8_t*>(buf.data()), static_cast<size_t>(in.gcount()));
    }
    if (in.bad()) return fail("cannot read " + path.string());
    return h.hex();
}

}  // namespace fl::core
