#include "metrics_log.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "backprop/error.hpp"
#include "core/atomic_file.hpp"

namespace backprop::cli {

MetricsLog::MetricsLog(std::filesystem::path path, const std::vector<EpochMetrics>& history)
    : path_(std::move(path)) {
  std::string text;
  for (const auto& m : history) text += to_json(m) + "\n";
  write_file_atomically(path_, text);
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ < 0) {
    const int err = errno;
    throw Error(fmt::format("cannot write {}: {}", path_.string(), std::strerror(err)));
  }
}

MetricsLog::~MetricsLog() {
  if (fd_ >= 0) ::close(fd_);
}

void MetricsLog::append(const EpochMetrics& m) {
  const std::string line = to_json(m) + "\n";
  std::size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : ENOSPC;
      // A partial line would break every reader of the file: cut it off again.
      if (done > 0) {
        const off_t end = ::lseek(fd_, 0, SEEK_END);
        if (end >= static_cast<off_t>(done)) (void)::ftruncate(fd_, end - static_cast<off_t>(done));
      }
      throw Error(fmt::format("cannot write {}: {}", path_.string(), std::strerror(err)));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd_) != 0) {
    const int err = errno;
    throw Error(fmt::format("cannot write {}: {}", path_.string(), std::strerror(err)));
  }
}

}  // namespace backprop::cli
