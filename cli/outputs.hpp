#pragma once
// The files a command writes, claimed before any work: each output is compared with every input
// and every other output (an output on an input would destroy it, silently, after the run that
// needed it), then locked (a second run writing the same files is refused, naming the holder).
// Standard output ("-", /dev/stdout) is streamed, never claimed, and every write to it is checked.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/distinct_paths.hpp"
#include "core/output_lock.hpp"

namespace backprop::cli {

// "-", /dev/stdout, /dev/fd/1 and /proc/self/fd/1: standard output as a path.
bool is_stdout_path(const std::string& path);

// check_outputs_distinct over the paths that are files (empty paths and standard output are
// skipped).
void check_distinct(const std::vector<NamedPath>& inputs, const std::vector<NamedPath>& outputs);

// Refuses clashes (check_distinct) and takes the OutputLock on the outputs that are
// files (empty paths and standard output are skipped). The lock is held while the result lives.
std::unique_ptr<OutputLock> claim_outputs(const std::vector<NamedPath>& inputs,
                                          const std::vector<NamedPath>& outputs);

// Refuses standard output for an output that is written whole and atomically (a binary model,
// an ONNX file, an HTML report): `role` names the flag, `what` the file.
void refuse_stdout(const NamedPath& output, std::string_view what);

// Writes all of `bytes` to standard output, or throws Error naming standard output and the
// reason (a full disk, a closed pipe).
void write_stdout(std::string_view bytes);

// Flushes standard output; throws like write_stdout.
void flush_stdout();

}  // namespace backprop::cli
