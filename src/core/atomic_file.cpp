#include "core/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
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
// of them as a bare ENOENT or EISDIR.
void check_target(const fs::path& path, const fs::path& dir) {
  if (path.filename().empty()) fail(path, "the path ends in a separator, so it names no file");
  std::error_code ec;
  const fs::file_status dir_status = fs::status(dir, ec);
  if (dir_status.type() == fs::file_type::not_found) {
    fail(path, fmt::format("directory '{}' does not exist", dir.string()));
  }
  if (ec) fail(path, fmt::format("cannot access directory '{}': {}", dir.string(), ec.message()));
  if (!fs::is_directory(dir_status))
    fail(path, fmt::format("'{}' is not a directory", dir.string()));

  // symlink_status, because rename replaces a link rather than following it.
  const fs::file_status target = fs::symlink_status(path, ec);
  if (fs::is_directory(target)) fail(path, "it is a directory");
  // Renaming over a device or a fifo would replace it (as root, even /dev/null).
  if (fs::exists(target) && !fs::is_regular_file(target) && !fs::is_symlink(target)) {
    fail(path, "it exists and is not a regular file");
  }
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

// `<dir>/.<name>.tmp-XXXXXX`, open for writing. Removed again when this object dies, unless
// renamed into place first.
class TempFile {
 public:
  TempFile(const fs::path& path, const fs::path& dir) : path_(path) {
    std::string name = (dir / ("." + path.filename().string() + ".tmp-XXXXXX")).string();
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

  void rename_to(const fs::path& target) {
    if (::rename(name_.c_str(), target.c_str()) != 0) fail_errno();
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

void write_file_atomically(const fs::path& path, std::string_view bytes) {
  const fs::path dir = directory_of(path);
  check_target(path, dir);
  TempFile temp(path, dir);
  temp.set_mode(mode_for(path));
  temp.write_all(bytes);
  temp.sync();
  temp.close();
  temp.rename_to(path);
  sync_directory(path, dir);
}

void check_writable(const fs::path& path) {
  const fs::path dir = directory_of(path);
  check_target(path, dir);
  const TempFile probe(path, dir);
}

}  // namespace backprop
