#include "metrics_log.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "backprop/error.hpp"
#include "core/atomic_file.hpp"

namespace backprop::cli {

ResumedHistory read_resumed_history(const std::filesystem::path& path, std::int64_t epoch) {
  ResumedHistory h;
  const std::string name = path.string();
  std::ifstream in(path);
  if (!in && epoch > 0) {
    h.problem = fmt::format("{}: cannot be read ({})", name, std::strerror(errno));
    return h;
  }
  std::string line;
  for (std::int64_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (static_cast<std::int64_t>(h.epochs.size()) == epoch) {
      ++h.dropped_lines;
      continue;
    }
    const auto expected = static_cast<std::int64_t>(h.epochs.size()) + 1;
    try {
      h.epochs.push_back(epoch_metrics_from_json(line));
    } catch (const Error& e) {
      h.problem = fmt::format("{}:{}: {}", name, number, e.what());
    }
    if (h.problem.empty() && h.epochs.back().epoch != expected)
      h.problem = fmt::format("{}:{}: epoch {} where epoch {} was expected", name, number,
                              h.epochs.back().epoch, expected);
    if (!h.problem.empty()) break;
  }
  if (h.problem.empty() && static_cast<std::int64_t>(h.epochs.size()) < epoch)
    h.problem = fmt::format("{} holds {} epoch{}, but the checkpoint is at epoch {}", name,
                            h.epochs.size(), h.epochs.size() == 1 ? "" : "s", epoch);
  if (!h.problem.empty()) {
    h.epochs.clear();
    h.dropped_lines = 0;
  }
  return h;
}

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
