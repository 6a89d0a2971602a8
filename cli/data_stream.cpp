#include "data_stream.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "backprop/error.hpp"

namespace backprop::cli {

namespace {

// The CSV and IDX readers' own limit on a file.
constexpr std::uint64_t kMaxStreamBytes = std::uint64_t{4} << 30;

// Closes a descriptor unless it is released to the caller.
struct Descriptor {
  int fd = -1;
  bool owned = true;
  ~Descriptor() {
    if (fd >= 0 && owned) ::close(fd);
  }
};

std::string temporary_directory() {
  const char* dir = std::getenv("TMPDIR");
  return dir != nullptr && *dir != '\0' ? dir : "/tmp";
}

// An unnamed file in `dir`: O_TMPFILE where the file system has it, else a named file
// unlinked at once.
int open_unnamed_file(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)) return fd;
  std::string name = dir + "/backprop-data-XXXXXX";
  const int named = ::mkostemp(name.data(), O_CLOEXEC);
  if (named >= 0) ::unlink(name.c_str());
  return named;
}

}  // namespace

std::string readable_data_path(const std::string& flag, const std::string& path) {
  if (path.empty()) return path;
  const bool is_stdin = path == "-";
  struct stat st {};
  if (!is_stdin && (::stat(path.c_str(), &st) != 0 || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
    return path;  // the readers report a missing file themselves
  Descriptor in{is_stdin ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC), !is_stdin};
  if (in.fd < 0)
    throw Error(fmt::format("{} {}: cannot open: {}", flag, path, std::strerror(errno)));
  const std::string dir = temporary_directory();
  const auto copy_failed = [&](int err) {
    return Error(
        fmt::format("{} {}: cannot copy the stream to a temporary file in {}: {} (set TMPDIR to a "
                    "directory with room for it, or give {} a file)",
                    flag, path, dir, std::strerror(err), flag));
  };
  Descriptor copy{open_unnamed_file(dir)};
  if (copy.fd < 0) throw copy_failed(errno);
  std::vector<char> buffer(std::size_t{1} << 20);
  std::uint64_t total = 0;
  for (;;) {
    const ssize_t n = ::read(in.fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(fmt::format("{} {}: cannot read: {}", flag, path, std::strerror(errno)));
    if (n == 0) break;
    total += static_cast<std::uint64_t>(n);
    if (total > kMaxStreamBytes)
      throw Error(fmt::format("{} {}: the stream is larger than the limit of {} bytes", flag, path,
                              kMaxStreamBytes));
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = ::write(copy.fd, buffer.data() + done, static_cast<std::size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) throw copy_failed(w < 0 ? errno : ENOSPC);
      done += w;
    }
  }
  // The copy stays open (and so on disk) until the process ends: the readers open it again by
  // this path.
  copy.owned = false;
  return fmt::format("/proc/self/fd/{}", copy.fd);
}

}  // namespace backprop::cli
