#pragma once
// Standard input, pipes and fifos as --data. The readers take regular files only (they open a
// file twice: once to sniff its format, once to read it, and a fifo without a writer would
// block the model reader), so a stream is read once, whole, into an unnamed temporary file in
// $TMPDIR (/tmp when unset), and the readers get that file's /proc/self/fd path. On disk, not
// in memory: the readers then hold only a window of it at a time, as they do with any file.
// Regular files and directories are passed through unchanged.
#include <string>

namespace backprop::cli {

// `path` itself, or for "-", /dev/stdin, a pipe, a fifo or a character device, the path of a
// temporary copy of everything it holds (kept open until the process ends; it has no name in
// the directory, so nothing is left behind however the process ends). Throws Error naming
// `flag` and `path` when reading or copying fails (naming the temporary directory and how to
// choose another) or the stream exceeds the readers' 4 GiB limit.
std::string readable_data_path(const std::string& flag, const std::string& path);

}  // namespace backprop::cli
