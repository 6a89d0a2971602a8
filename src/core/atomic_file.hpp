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
// A new file gets mode 0666 minus the umask; a replaced file keeps its mode. A symbolic link at
// `path` is followed: the file it leads to is replaced and the link stays. Anything the path
// leads to that is not a regular file (a directory, a device, a fifo, a terminal) is refused.
// Temporary files left by a writer that was killed (SIGKILL, power cut) are removed by the next
// write to the same target; a target name of any legal length works.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

// Fails fast, before a long job starts, if write_file_atomically(path, ...) would fail for a
// reason that is already known: the directory is missing, `path` is a directory, or no file can
// be created there. Creates and removes a temporary file; never touches `path` itself.
void check_writable(const std::filesystem::path& path);

// The file `path` leads to: symbolic links followed (relative ones from their own directory),
// a dangling link to the file it would create. Throws Error on a loop (more than 40 links).
// Writing to a link updates its target, as `cp` and a shell redirection do.
std::filesystem::path follow_symlinks(const std::filesystem::path& path);

}  // namespace backprop
