#include "data_stream.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

#include "backprop/error.hpp"

namespace backprop::cli {

namespace {

// The CSV and IDX readers' own limit on a file.
constexpr std::uint64_t kMaxStreamBytes = std::uint64_t{4} << 30;

}  // namespace

std::string readable_data_path(const std::string& flag, const std::string& path) {
  if (path.empty()) return path;
  const bool is_stdin = path == "-";
  struct stat st {};
  if (!is_stdin && (::stat(path.c_str(), &st) != 0 || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
    return path;  // the readers report a missing file themselves
  const int in = is_stdin ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  const auto fail = [&](const char* what, int err) {
    if (!is_stdin && in >= 0) ::close(in);
    return Error(fmt::format("{} {}: cannot {}: {}", flag, path, what, std::strerror(err)));
  };
  if (in < 0) throw fail("open", errno);
  const int copy = ::memfd_create("backprop-data", MFD_CLOEXEC);
  if (copy < 0) throw fail("hold it in memory", errno);
  std::vector<char> buffer(std::size_t{1} << 20);
  std::uint64_t total = 0;
  for (;;) {
    const ssize_t n = ::read(in, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw fail("read", errno);
    if (n == 0) break;
    total += static_cast<std::uint64_t>(n);
    if (total > kMaxStreamBytes)
      throw Error(fmt::format("{} {}: the stream is larger than the limit of {} bytes", flag, path,
                              kMaxStreamBytes));
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = ::write(copy, buffer.data() + done, static_cast<std::size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) throw fail("hold it in memory", w < 0 ? errno : ENOSPC);
      done += w;
    }
  }
  if (!is_stdin) ::close(in);
  // `copy` stays open: the readers open it again by this path.
  return fmt::format("/proc/self/fd/{}", copy);
}

}  // namespace backprop::cli
