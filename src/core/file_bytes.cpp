#include "core/file_bytes.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <limits>
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

// The file opened for reading, with POSIX calls so that what is checked (a regular file, its
// size) is the file actually read, not whatever the path names a moment later. Reads name their
// offset, so that several streams can go over the one open file.
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

  const std::filesystem::path& path() const { return path_; }
  // The size when it was opened.
  std::uint64_t size() const { return size_; }

  // Fills out[0, size) from `offset` as far as the file allows; fewer bytes than asked means
  // end of file.
  std::size_t read_at(std::uint64_t offset, char* out, std::size_t size) const {
    std::size_t have = 0;
    while (have < size) {
      const ssize_t n = ::pread(fd_, out + have, size - have, static_cast<off_t>(offset + have));
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

  std::filesystem::path path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

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

}  // namespace

struct FileStream::State {
  std::shared_ptr<const InputFile> file;
  std::uint64_t limit = 0;
  Gzip gzip = Gzip::detect;
  std::uint64_t offset = 0;    // of the next byte to read from the file
  std::uint64_t produced = 0;  // bytes given out so far
  std::vector<char> in;        // read from the file, not yet given out (plain) or inflated
  std::size_t in_at = 0;
  std::size_t in_have = 0;
  bool at_eof = false;  // the file has no bytes after `in`
  std::unique_ptr<Inflater> inflater;
  bool ended = false;  // the last gzip member has ended

  const std::filesystem::path& path() const { return file->path(); }

  void fill() {
    // A small file takes a small buffer (one byte more than it holds, to see its end at once).
    if (in.empty())
      in.resize(static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, file->size() + 1)));
    in_have = file->read_at(offset, in.data(), in.size());
    offset += in_have;
    in_at = 0;
    at_eof = in_have < in.size();
  }

  // Opens the stream at the start of the file: sniffs the gzip magic.
  void start() {
    fill();
    if (gzip == Gzip::detect && in_have >= 2 && static_cast<unsigned char>(in[0]) == 0x1f &&
        static_cast<unsigned char>(in[1]) == 0x8b) {
      inflater = std::make_unique<Inflater>(path());
      z_stream& zs = **inflater;
      zs.next_in = reinterpret_cast<Bytef*>(in.data());
      zs.avail_in = static_cast<uInt>(in_have);
      return;
    }
    if (file->size() > limit) {
      fail(path(),
           fmt::format("is {} bytes, larger than the limit of {} bytes", file->size(), limit));
    }
  }

  // Counts `n` more bytes given out against the limit.
  void count(std::size_t n) {
    produced += n;
    if (produced <= limit) return;
    if (inflater) {
      fail(path(), fmt::format("decompresses to more than the limit of {} bytes (refusing a "
                               "possible decompression bomb)",
                               limit));
    }
    fail(path(), fmt::format("is larger than the limit of {} bytes", limit));
  }

  std::size_t read_plain(char* out, std::size_t size) {
    std::size_t got = 0;
    while (got < size) {
      if (in_at == in_have) {
        if (at_eof) break;
        if (size - got >= kChunk) {  // a large read skips the copy through `in`
          const std::size_t want = size - got;
          const std::size_t n = file->read_at(offset, out + got, want);
          offset += n;
          got += n;
          at_eof = n < want;
          break;
        }
        fill();
        continue;
      }
      const std::size_t n = std::min(size - got, in_have - in_at);
      std::memcpy(out + got, in.data() + in_at, n);
      in_at += n;
      got += n;
    }
    count(got);
    return got;
  }

  std::size_t read_gzip(char* out, std::size_t size) {
    z_stream& zs = **inflater;
    const auto refill = [&] {
      if (zs.avail_in > 0 || at_eof) return;
      fill();
      zs.next_in = reinterpret_cast<Bytef*>(in.data());
      zs.avail_in = static_cast<uInt>(in_have);
    };
    std::size_t got = 0;
    while (got < size && !ended) {
      refill();
      zs.next_out = reinterpret_cast<Bytef*>(out + got);
      zs.avail_out = static_cast<uInt>(std::min<std::size_t>(size - got, UINT_MAX));
      const int rc = inflate(&zs, Z_NO_FLUSH);
      const std::size_t produced_now =
          static_cast<std::size_t>(zs.next_out - reinterpret_cast<Bytef*>(out + got));
      got += produced_now;
      count(produced_now);

      switch (rc) {
        case Z_OK:
          break;
        case Z_STREAM_END:
          refill();
          if (zs.avail_in == 0) {
            ended = true;
            break;
          }
          // Another member may follow (concatenated .gz files); anything else is garbage that
          // a lenient reader would silently drop along with whatever the user meant it to be.
          if (zs.next_in[0] != 0x1f)
            corrupt(path(), "unexpected data after the end of the compressed data");
          if (inflateReset(&zs) != Z_OK) corrupt(path(), "cannot restart after a member");
          break;
        case Z_BUF_ERROR:
          // No progress was possible: with room in the output on offer that means the input
          // ran out before the stream's end.
          if (at_eof && zs.avail_in == 0) corrupt(path(), "truncated");
          if (zs.avail_in > 0) corrupt(path(), "inflate made no progress");
          break;
        case Z_DATA_ERROR:
          corrupt(path(), zs.msg != nullptr ? zs.msg : "corrupt data");
        case Z_NEED_DICT:
          corrupt(path(), "needs a preset dictionary");
        case Z_MEM_ERROR:
          fail(path(), "out of memory while decompressing");
        default:
          corrupt(path(), fmt::format("zlib error {}", rc));
      }
    }
    return got;
  }
};

FileStream::FileStream(const std::filesystem::path& path, std::uint64_t max_bytes, Gzip gzip)
    : state_(std::make_unique<State>()) {
  state_->file = std::make_shared<const InputFile>(path);
  state_->limit = max_bytes;
  state_->gzip = gzip;
  state_->start();
}

FileStream::FileStream(std::unique_ptr<State> state) : state_(std::move(state)) {}
FileStream::FileStream(FileStream&&) noexcept = default;
FileStream& FileStream::operator=(FileStream&&) noexcept = default;
FileStream::~FileStream() = default;

FileStream FileStream::restart() const {
  auto state = std::make_unique<State>();
  state->file = state_->file;
  state->limit = state_->limit;
  state->gzip = state_->gzip;
  state->start();
  return FileStream(std::move(state));
}

std::size_t FileStream::read(std::span<char> out) {
  return state_->inflater ? state_->read_gzip(out.data(), out.size())
                          : state_->read_plain(out.data(), out.size());
}

std::uint64_t FileStream::size_hint() const {
  return state_->inflater ? 0 : std::min(state_->file->size(), state_->limit);
}

std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& path,
                                          std::uint64_t max_bytes, Gzip gzip) {
  FileStream stream(path, max_bytes, gzip);
  std::vector<std::uint8_t> out;
  out.reserve(static_cast<std::size_t>(stream.size_hint()));
  std::vector<char> chunk(kChunk);
  for (;;) {
    const std::size_t n = stream.read(chunk);
    out.insert(out.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
    if (n < chunk.size()) return out;
  }
}

std::vector<std::uint8_t> read_file_head(const std::filesystem::path& path, std::size_t count) {
  FileStream stream(path, std::numeric_limits<std::uint64_t>::max());
  std::vector<std::uint8_t> out(count);
  out.resize(stream.read({reinterpret_cast<char*>(out.data()), out.size()}));
  return out;
}

}  // namespace backprop
