#include "core/atomic_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <string>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "backprop/error.hpp"

namespace backprop {
namespace {

namespace fs = std::filesystem;

// Linux moves at most about 2 GiB per write() call; asking for no more than that keeps the
// result within ssize_t everywhere.
constexpr std::size_t kMaxWrite = std::size_t{1} << 30;

std::string describe(int err) { return std::generic_category().message(err); }

[[noreturn]] void fail(const fs::path& path, std::string_view why) {
  throw Error(fmt::format("cannot write {}: {}", path.string(), why));
}

// The temporary file must live in the target's directory: rename is atomic only within one
// file system.
fs::path directory_of(const fs::path& path) {
  fs::path dir = path.parent_path();
  return dir.empty() ? fs::path(".") : dir;
}

// The problems that can be named precisely before anything is created; mkstemp would report most
// of them as a bare ENOENT or EISDIR. `path` is what the user gave, `target` the file it leads to.
void check_target(const fs::path& path, const fs::path& target, const fs::path& dir) {
  if (target.filename().empty()) fail(path, "the path ends in a separator, so it names no file");
  std::error_code ec;
  const fs::file_status dir_status = fs::status(dir, ec);
  if (dir_status.type() == fs::file_type::not_found) {
    fail(path, fmt::format("directory '{}' does not exist", dir.string()));
  }
  if (ec) fail(path, fmt::format("cannot access directory '{}': {}", dir.string(), ec.message()));
  if (!fs::is_directory(dir_status))
    fail(path, fmt::format("'{}' is not a directory", dir.string()));

  const fs::file_status status = fs::symlink_status(target, ec);
  const std::string leads_to =
      target == path ? std::string() : fmt::format("it leads to '{}', which ", target.string());
  if (fs::is_directory(status)) {
    fail(path, leads_to.empty() ? "it is a directory" : leads_to + "is a directory");
  }
  // Renaming over a device, a fifo or a socket would replace it (as root, even /dev/null or
  // the terminal behind /dev/stdout).
  if (fs::exists(status) && !fs::is_regular_file(status)) {
    fail(path, (leads_to.empty() ? std::string("it exists and ") : leads_to) +
                   "is not a regular file; name a regular file (standard output is '-' where a "
                   "command accepts it)");
  }
}

// Temporary files are named `.<name>.tmp-<pid>-XXXXXX`. The name part is cut so that the whole
// stays within NAME_MAX; the pid lets a later write to the same target remove what a killed
// process left behind.
constexpr std::size_t kMaxNameBytes = 255;
constexpr std::size_t kTempSuffixBytes = 40;  // ".tmp-" + a pid + "-XXXXXX", with room to spare

std::string temp_prefix(const fs::path& target) {
  std::string name = target.filename().string();
  if (name.size() > kMaxNameBytes - 1 - kTempSuffixBytes) {
    name.resize(kMaxNameBytes - 1 - kTempSuffixBytes);
  }
  return "." + name + ".tmp-";
}

// Removes this target's temporary files whose writer no longer exists (killed during a write:
// SIGKILL, a power cut). Files of live processes, including this one, are left alone; so is
// anything that does not follow the naming exactly.
void remove_stale_temp_files(const fs::path& target, const fs::path& dir) {
  const std::string prefix = temp_prefix(target);
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  while (const dirent* entry = ::readdir(d)) {
    const std::string_view name = entry->d_name;
    if (!name.starts_with(prefix)) continue;
    const std::string_view rest = name.substr(prefix.size());  // "<pid>-XXXXXX"
    const std::size_t dash = rest.find('-');
    if (dash == std::string_view::npos || rest.size() - dash - 1 != 6) continue;
    long pid = 0;
    const auto [end, ec] = std::from_chars(rest.data(), rest.data() + dash, pid);
    if (ec != std::errc() || end != rest.data() + dash || pid <= 0) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // alive, or unknown
    ::unlinkat(::dirfd(d), entry->d_name, 0);
  }
  ::closedir(d);
}

// umask() can only be read by changing it, which races with other threads creating files; Linux
// (4.7 and later) reports it in /proc/self/status instead.
mode_t current_umask() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Umask:", 0) == 0) {
      return static_cast<mode_t>(std::strtoul(line.c_str() + 6, nullptr, 8) & 0777);
    }
  }
  return 022;
}

// mkstemp creates files with mode 0600; the result should be as readable as a file written by
// the shell, and replacing a file should not change who may read it.
mode_t mode_for(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return st.st_mode & 0777;
  return 0666 & ~current_umask();
}

// `<dir>/.<name>.tmp-<pid>-XXXXXX`, open for writing. Removed again when this object dies,
// unless renamed into place first. `path` is what the user gave (for messages), `target` the
// file it leads to.
class TempFile {
 public:
  TempFile(const fs::path& path, const fs::path& target, const fs::path& dir) : path_(path) {
    std::string name =
        (dir / fmt::format("{}{}-XXXXXX", temp_prefix(target), static_cast<long>(::getpid())))
            .string();
    fd_ = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd_ < 0) {
      const int err = errno;
      fail(path_,
           fmt::format("cannot create a file in directory '{}': {}", dir.string(), describe(err)));
    }
    name_ = std::move(name);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!name_.empty()) ::unlink(name_.c_str());
  }

  void set_mode(mode_t mode) {
    if (::fchmod(fd_, mode) != 0) fail_errno();
  }

  // Handles short writes (a signal, or a file size limit reached part way) and EINTR.
  void write_all(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::write(fd_, bytes.data(), std::min(bytes.size(), kMaxWrite));
      if (n < 0) {
        if (errno == EINTR) continue;
        fail_errno();
      }
      if (n == 0) fail(path_, "write made no progress");
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  void sync() {
    while (::fsync(fd_) != 0) {
      if (errno != EINTR) fail_errno();
    }
  }

  // Some file systems (NFS, quotas) report a failed write only at close.
  void close() {
    const int rc = ::close(fd_);
    const int err = errno;
    fd_ = -1;
    // Linux releases the descriptor even when close reports EINTR (so retrying could close
    // another thread's file), and sync() has already put the data on disk.
    if (rc != 0 && err != EINTR) fail(path_, describe(err));
  }

  // `dir` is the target's directory, named when the move fails (it may have gone meanwhile).
  void rename_to(const fs::path& target, const fs::path& dir) {
    if (::rename(name_.c_str(), target.c_str()) != 0) {
      const int err = errno;
      fail(path_, fmt::format("cannot move the new file into directory '{}': {}", dir.string(),
                              describe(err)));
    }
    name_.clear();  // the name now belongs to the target
  }

 private:
  [[noreturn]] void fail_errno() const { fail(path_, describe(errno)); }

  const fs::path& path_;
  std::string name_;
  int fd_ = -1;
};

// Makes the rename itself durable: until the directory entry reaches the disk, a power cut can
// bring back the old file (or none).
void sync_directory(const fs::path& path, const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    fail(path, fmt::format("the new file is in place, but directory '{}' cannot be opened to "
                           "flush it: {}",
                           dir.string(), describe(err)));
  }
  int rc = 0;
  while ((rc = ::fsync(fd)) != 0 && errno == EINTR) {
  }
  const int err = errno;
  ::close(fd);
  // Some file systems cannot fsync a directory at all (EINVAL); there the rename is as durable
  // as it will get.
  if (rc != 0 && err != EINVAL) {
    fail(path, fmt::format("the new file is in place, but flushing directory '{}' failed: {}",
                           dir.string(), describe(err)));
  }
}

}  // namespace

fs::path follow_symlinks(const fs::path& path) {
  constexpr int kMaxLinks = 40;  // Linux's MAXSYMLINKS
  fs::path resolved = path;
  for (int hops = 0;; ++hops) {
    std::error_code ec;
    if (!fs::is_symlink(fs::symlink_status(resolved, ec))) return resolved;
    if (hops == kMaxLinks) {
      fail(path, fmt::format("more than {} levels of symbolic links (a loop?)", kMaxLinks));
    }
    const fs::path target = fs::read_symlink(resolved, ec);
    if (ec)
      fail(path,
           fmt::format("cannot read symbolic link '{}': {}", resolved.string(), ec.message()));
    resolved = target.is_absolute() ? target : resolved.parent_path() / target;
  }
}

void write_file_atomically(const fs::path& path, std::string_view bytes) {
  const fs::path target = follow_symlinks(path);
  const fs::path dir = directory_of(target);
  check_target(path, target, dir);
  remove_stale_temp_files(target, dir);
  TempFile temp(path, target, dir);
  temp.set_mode(mode_for(target));
  temp.write_all(bytes);
  temp.sync();
  temp.close();
  temp.rename_to(target, dir);
  sync_directory(path, dir);
}

void check_writable(const fs::path& path) {
  const fs::path target = follow_symlinks(path);
  const fs::path dir = directory_of(target);
  check_target(path, target, dir);
  const TempFile probe(path, target, dir);
}

}  // namespace backprop
