#pragma once
// Standard input, pipes and fifos as --data. The readers take regular files only (they open a
// file twice: once to sniff its format, once to read it, and a fifo without a writer would
// block the model reader), so a stream is read once, whole, into an anonymous in-memory file
// (memfd), and the readers get that file's /proc/self/fd path. Regular files and directories
// are passed through unchanged.
#include <string>

namespace backprop::cli {

// `path` itself, or for "-", /dev/stdin, a pipe, a fifo or a character device, the path of an
// in-memory copy of everything it holds (kept open until the process ends). Throws Error
// naming `flag` and `path` when reading fails or the stream exceeds the readers' 4 GiB limit.
std::string readable_data_path(const std::string& flag, const std::string& path);

}  // namespace backprop::cli
