#pragma once
// An advisory lock on a command's output files, so that two runs writing the same model,
// checkpoint or metrics file are refused instead of interleaving (a model from one run beside a
// checkpoint from the other).
//
// The lock is flock(2) on `.<name>.lock` beside the target (the target itself is replaced by
// rename on every write, so its inode cannot carry a lock). The lock file holds the holder's pid
// and command line, for the message a second run gets; it is removed when the lock is released.
#include <filesystem>
#include <string>
#include <vector>

namespace backprop {

class OutputLock {
 public:
  // Locks every path (symbolic links followed) or throws Error naming the first one that another
  // process holds, with that process's pid and command line. `holder` is written into the lock
  // files (e.g. the command line of this run).
  OutputLock(const std::vector<std::filesystem::path>& outputs, const std::string& holder);
  ~OutputLock();
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

 private:
  struct Held {
    std::filesystem::path lock_path;
    int fd;
  };
  void release();
  std::vector<Held> held_;
};

// The lock file of an output path (symbolic links followed): `<dir>/.<name>.lock`.
std::filesystem::path lock_file_for(const std::filesystem::path& output);

}  // namespace backprop
