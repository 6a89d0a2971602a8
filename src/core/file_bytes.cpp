#include "core/file_bytes.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "backprop/error.hpp"

namespace backprop {
namespace {

// Read and inflate in pieces this size: large enough that zlib and read(2) run at full speed,
// small enough that a head read or an early error costs next to nothing.
constexpr std::size_t kChunk = std::size_t{1} << 16;

[[noreturn]] void fail(const std::filesystem::path& path, std::string_view what) {
  throw Error(fmt::format("{}: {}", path.string(), what));
}

[[noreturn]] void corrupt(const std::filesystem::path& path, std::string_view why) {
  fail(path, fmt::format("not a valid gzip stream ({})", why));
}

// Exceeding the limit is an error for a whole-file read, and simply the end for a head read.
enum class AtLimit { fail, stop };

// The file opened for reading, with POSIX calls so that what is checked (a regular file, its
// size) is the file actually read, not whatever the path names a moment later.
class InputFile {
 public:
  explicit InputFile(const std::filesystem::path& path) : path_(path) {
    // O_NONBLOCK so that a fifo is refused below instead of blocking here for a writer; it has
    // no effect on regular files.
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd_ < 0) fail_errno("open");
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
      const int err = errno;
      ::close(fd_);
      errno = err;
      fail_errno("stat");
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd_);
      fail(path_, S_ISDIR(st.st_mode) ? "is a directory, not a file" : "is not a regular file");
    }
    size_ = static_cast<std::uint64_t>(st.st_size);
  }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  ~InputFile() { ::close(fd_); }

  // The size when it was opened.
  std::uint64_t size() const { return size_; }

  // Fills `buffer` as far as the file allows; fewer bytes than asked means end of file.
  std::size_t read(std::vector<std::uint8_t>& buffer) {
    std::size_t have = 0;
    while (have < buffer.size()) {
      const ssize_t n = ::read(fd_, buffer.data() + have, buffer.size() - have);
      if (n < 0) {
        if (errno == EINTR) continue;
        fail_errno("read");
      }
      if (n == 0) break;
      have += static_cast<std::size_t>(n);
    }
    return have;
  }

 private:
  [[noreturn]] void fail_errno(std::string_view doing) const {
    const int err = errno;
    fail(path_, fmt::format("cannot {}: {}", doing, std::strerror(err)));
  }

  const std::filesystem::path& path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

// Appends `data` to `out` unless that would take it past `limit`. Returns false when the caller
// should stop (head read reached its count).
bool append_limited(std::vector<std::uint8_t>& out, const std::uint8_t* data, std::size_t size,
                    std::uint64_t limit, AtLimit at_limit, const std::filesystem::path& path,
                    bool compressed) {
  const std::uint64_t room = limit - out.size();  // out.size() <= limit always holds
  if (size <= room) {
    out.insert(out.end(), data, data + size);
    return out.size() < limit || at_limit == AtLimit::fail;
  }
  if (at_limit == AtLimit::stop) {
    out.insert(out.end(), data, data + static_cast<std::size_t>(room));
    return false;
  }
  if (compressed) {
    fail(path, fmt::format("decompresses to more than the limit of {} bytes (refusing a possible "
                           "decompression bomb)",
                           limit));
  }
  fail(path, fmt::format("is larger than the limit of {} bytes", limit));
}

std::vector<std::uint8_t> read_plain(InputFile& file, const std::filesystem::path& path,
                                     std::vector<std::uint8_t>& chunk, std::size_t have,
                                     std::uint64_t limit, AtLimit at_limit) {
  std::vector<std::uint8_t> out;
  const std::uint64_t size = file.size();
  if (at_limit == AtLimit::fail && size > limit) {
    fail(path, fmt::format("is {} bytes, larger than the limit of {} bytes", size, limit));
  }
  out.reserve(static_cast<std::size_t>(std::min(size, limit)));
  while (have > 0) {
    if (!append_limited(out, chunk.data(), have, limit, at_limit, path, false)) break;
    if (have < chunk.size()) break;  // short read: end of file
    have = file.read(chunk);
  }
  return out;
}

class Inflater {
 public:
  explicit Inflater(const std::filesystem::path& path) {
    // 15 = the largest window; +32 = accept a gzip (or zlib) header and check its trailer.
    if (inflateInit2(&stream_, 15 + 32) != Z_OK) fail(path, "cannot start zlib");
  }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
  ~Inflater() { inflateEnd(&stream_); }
  z_stream& operator*() { return stream_; }

 private:
  z_stream stream_{};
};

std::vector<std::uint8_t> read_gzip(InputFile& file, const std::filesystem::path& path,
                                    std::vector<std::uint8_t>& chunk, std::size_t have,
                                    std::uint64_t limit, AtLimit at_limit) {
  Inflater inflater(path);
  z_stream& zs = *inflater;
  bool at_eof = have < chunk.size();
  zs.next_in = chunk.data();
  zs.avail_in = static_cast<uInt>(have);

  const auto refill = [&] {
    if (zs.avail_in > 0 || at_eof) return;
    have = file.read(chunk);
    at_eof = have < chunk.size();
    zs.next_in = chunk.data();
    zs.avail_in = static_cast<uInt>(have);
  };

  std::vector<std::uint8_t> out;
  std::vector<std::uint8_t> buffer(kChunk);
  for (;;) {
    refill();
    zs.next_out = buffer.data();
    zs.avail_out = static_cast<uInt>(buffer.size());
    const int rc = inflate(&zs, Z_NO_FLUSH);
    const std::size_t produced = buffer.size() - zs.avail_out;
    if (!append_limited(out, buffer.data(), produced, limit, at_limit, path, true)) return out;

    switch (rc) {
      case Z_OK:
        break;
      case Z_STREAM_END:
        refill();
        if (zs.avail_in == 0) return out;
        // Another member may follow (concatenated .gz files); anything else is garbage that a
        // lenient reader would silently drop along with whatever the user meant it to be.
        if (zs.next_in[0] != 0x1f)
          corrupt(path, "unexpected data after the end of the compressed data");
        if (inflateReset(&zs) != Z_OK) corrupt(path, "cannot restart after a member");
        break;
      case Z_BUF_ERROR:
        // No progress was possible: with an empty output buffer on offer that means the input
        // ran out before the stream's end.
        if (at_eof && zs.avail_in == 0) corrupt(path, "truncated");
        if (zs.avail_in > 0) corrupt(path, "inflate made no progress");
        break;
      case Z_DATA_ERROR:
        corrupt(path, zs.msg != nullptr ? zs.msg : "corrupt data");
      case Z_NEED_DICT:
        corrupt(path, "needs a preset dictionary");
      case Z_MEM_ERROR:
        fail(path, "out of memory while decompressing");
      default:
        corrupt(path, fmt::format("zlib error {}", rc));
    }
  }
}

std::vector<std::uint8_t> read_bytes(const std::filesystem::path& path, std::uint64_t limit,
                                     AtLimit at_limit, Gzip gzip) {
  InputFile file(path);
  std::vector<std::uint8_t> chunk(kChunk);
  const std::size_t have = file.read(chunk);
  if (gzip == Gzip::detect && have >= 2 && chunk[0] == 0x1f && chunk[1] == 0x8b) {
    return read_gzip(file, path, chunk, have, limit, at_limit);
  }
  return read_plain(file, path, chunk, have, limit, at_limit);
}

}  // namespace

std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& path,
                                          std::uint64_t max_bytes, Gzip gzip) {
  return read_bytes(path, max_bytes, AtLimit::fail, gzip);
}

std::vector<std::uint8_t> read_file_head(const std::filesystem::path& path, std::size_t count) {
  return read_bytes(path, count, AtLimit::stop, Gzip::detect);
}

}  // namespace backprop
