#pragma once
// Whole-file reads shared by every reader (IDX, CSV, model files). A file that starts with the
// gzip magic (1f 8b) is gunzipped on the fly, so `train-images-idx3-ubyte.gz` and a gzipped CSV
// need no special handling by the caller. Concatenated gzip members (what `cat a.gz b.gz`
// produces) are decompressed one after another, as gunzip does. Only regular files are read:
// a directory, a fifo or a device is refused at once (a fifo without a writer would block).
//
// Errors are backprop::Error and start with the path as given, e.g.
//   "x.idx: cannot open: No such file or directory"
//   "train-images-idx3-ubyte.gz: not a valid gzip stream (truncated)"
//   "data: is a directory, not a file"
//   "model.safetensors: is 5000 bytes, larger than the limit of 4096 bytes"
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

namespace backprop {

// Whether a file that starts with the gzip magic is gunzipped (IDX, CSV) or read as it is
// (safetensors, whose first bytes are a length that may happen to be 1f 8b).
enum class Gzip { detect, never };

// A file's bytes from the start, in pieces, decompressed if it is gzip: for readers that never
// need the whole file at once. The checks and messages are read_file_bytes' (the size limit of a
// plain file before anything is read, of a gzip's output as it inflates).
class FileStream {
 public:
  FileStream(const std::filesystem::path& path, std::uint64_t max_bytes, Gzip gzip = Gzip::detect);
  FileStream(FileStream&&) noexcept;
  FileStream& operator=(FileStream&&) noexcept;
  ~FileStream();

  // Another stream from the start of the same open file: a reader that goes over a file more
  // than once reads the file it opened, even if the path names another one meanwhile.
  FileStream restart() const;
  // Fills `out` with the next bytes; fewer than out.size() only at the end of the file.
  std::size_t read(std::span<char> out);
  // The bytes a plain file holds (its size when opened, at most the limit); 0 for gzip, whose
  // size is known only once inflated.
  std::uint64_t size_hint() const;

 private:
  struct State;
  explicit FileStream(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// The file's bytes, decompressed if it is gzip. Throws if the (decompressed) size exceeds
// max_bytes: a plain file is refused from its size before it is read, and a few kilobytes of
// gzip can expand to gigabytes, so the limit is enforced while inflating, before the memory is
// spent.
std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& path,
                                          std::uint64_t max_bytes, Gzip gzip = Gzip::detect);

// At most the first `count` bytes of the file, decompressed if it is gzip. For sniffing a
// file's format without reading all of it; the rest of the stream is not checked.
std::vector<std::uint8_t> read_file_head(const std::filesystem::path& path, std::size_t count);

}  // namespace backprop
