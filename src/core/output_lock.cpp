#include "core/output_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "backprop/error.hpp"
#include "core/atomic_file.hpp"

namespace backprop {
namespace {

namespace fs = std::filesystem;

// What the holder wrote into its lock file (its pid and command line), for the message.
std::string holder_of(int fd) {
  char buffer[512];
  const ssize_t n = ::pread(fd, buffer, sizeof buffer - 1, 0);
  if (n <= 0) return "another process";
  std::string text(buffer, static_cast<std::size_t>(n));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';  // no terminal escapes
  }
  return text.empty() ? "another process" : text;
}

// True when `fd` is still the file at `path`: a holder removes its lock file on release, and a
// process that opened the old file just before must not take a lock on a file nobody else sees.
bool still_linked(int fd, const fs::path& path) {
  struct stat opened {};
  struct stat named {};
  return ::fstat(fd, &opened) == 0 && ::stat(path.c_str(), &named) == 0 &&
         opened.st_dev == named.st_dev && opened.st_ino == named.st_ino;
}

}  // namespace

fs::path lock_file_for(const fs::path& output) {
  const fs::path target = follow_symlinks(output);
  const fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  std::string name = target.filename().string();
  if (name.size() > 240) name.resize(240);  // ".<name>.lock" within NAME_MAX
  return dir / ("." + name + ".lock");
}

OutputLock::OutputLock(const std::vector<fs::path>& outputs, const std::string& holder) {
  try {
    for (const fs::path& output : outputs) {
      const fs::path lock_path = lock_file_for(output);
      bool already_held = false;
      for (const Held& h : held_) already_held = already_held || h.lock_path == lock_path;
      if (already_held) continue;  // one flock per file: a second would conflict with the first
      for (;;) {
        const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
          const int err = errno;
          throw Error(fmt::format("cannot lock {}: cannot create '{}': {}", output.string(),
                                  lock_path.string(), std::strerror(err)));
        }
        if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
          const int err = errno;
          const std::string who = holder_of(fd);
          ::close(fd);
          if (err == EWOULDBLOCK) {
            throw Error(fmt::format(
                "{} is being written by another run ({}); wait for it to finish, or choose "
                "another output path",
                output.string(), who));
          }
          throw Error(fmt::format("cannot lock {}: {}", output.string(), std::strerror(err)));
        }
        if (!still_linked(fd, lock_path)) {  // released and removed meanwhile: try again
          ::close(fd);
          continue;
        }
        const std::string text = fmt::format("pid {}: {}\n", ::getpid(), holder);
        if (::ftruncate(fd, 0) != 0 ||
            ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
          // The lock holds without the text; a second run is still refused, only less precisely.
        }
        held_.push_back({lock_path, fd});
        break;
      }
    }
  } catch (...) {
    release();
    throw;
  }
}

OutputLock::~OutputLock() { release(); }

void OutputLock::release() {
  // Unlink while still holding the lock, so that no one can lock the file between our unlock
  // and its removal (still_linked() sends a late opener to the new file).
  for (const Held& h : held_) {
    ::unlink(h.lock_path.c_str());
    ::close(h.fd);
  }
  held_.clear();
}

}  // namespace backprop
