#pragma once
// Every file the product writes goes through here, so that a crash, a full disk or a killed job
// never leaves a half-written model or report where the previous good one used to be.
//
// Errors are backprop::Error and name the path as given, e.g.
//   "cannot write out/model.safetensors: directory 'out' does not exist"
//   "cannot write out/model.safetensors: No space left on device"
#include <filesystem>
#include <string_view>

namespace backprop {

// Replaces `path` with `bytes` as one step: a reader (or a reboot) sees either the previous file
// or the complete new one, never a mixture. The bytes go to a temporary file in the same
// directory (rename is atomic only within one file system), which is flushed to disk, renamed
// over `path`, and then the directory is flushed so that the rename itself is durable.
// On failure the temporary file is removed and `path` keeps its previous content.
// A new file gets mode 0666 minus the umask; a replaced file keeps its mode. A symlink at `path`
// is replaced by a regular file (rename does not follow links). Anything at `path` that is not
// a regular file or a symlink (a directory, a device, a fifo) is refused.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

// Fails fast, before a long job starts, if write_file_atomically(path, ...) would fail for a
// reason that is already known: the directory is missing, `path` is a directory, or no file can
// be created there. Creates and removes a temporary file; never touches `path` itself.
void check_writable(const std::filesystem::path& path);

}  // namespace backprop
