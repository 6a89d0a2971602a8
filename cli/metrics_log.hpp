#pragma once
// The --metrics file of `backprop train`: JSON Lines, one object per epoch. Each epoch appends
// its line in one write and flushes it to disk (fsync), so the cost of an epoch does not grow
// with the number of epochs before it, and a crash loses at most the line being written.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "backprop/trainer.hpp"

namespace backprop::cli {

// The history a run resumed at `epoch` (epochs completed) continues: the first `epoch` lines
// of its metrics file, which must be epochs 1, 2, ..., epoch in order. Lines after them (a
// killed run appends past its last checkpoint) are dropped whatever they hold. When the file
// cannot give those epochs, `epochs` is empty and `problem` says why, naming the file.
struct ResumedHistory {
  std::vector<EpochMetrics> epochs;
  std::int64_t dropped_lines = 0;
  std::string problem;
};
ResumedHistory read_resumed_history(const std::filesystem::path& path, std::int64_t epoch);

class MetricsLog {
 public:
  // Starts the file as `history` (the epochs of a resumed run so far, or none), written
  // atomically, so that a resumed run continues the lines up to its checkpoint and drops any
  // that a killed run wrote after it. Throws Error naming the path.
  MetricsLog(std::filesystem::path path, const std::vector<EpochMetrics>& history);
  ~MetricsLog();
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;

  // Appends the epoch's line; throws Error naming the path (a full disk, a vanished file).
  void append(const EpochMetrics& m);

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

}  // namespace backprop::cli
