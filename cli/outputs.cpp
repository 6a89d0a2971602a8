#include "outputs.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "backprop/error.hpp"

namespace backprop::cli {

namespace {

// This process's command line, for the lock file a second run reads in its message.
std::string command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  while (!text.empty() && text.back() == '\0') text.pop_back();
  for (char& c : text) c = c == '\0' ? ' ' : c;
  return text.empty() ? "backprop" : text;
}

[[noreturn]] void stdout_failed(int err) {
  throw Error(fmt::format("cannot write to standard output: {}",
                          err != 0 ? std::strerror(err) : "write error"));
}

}  // namespace

bool is_stdout_path(const std::string& path) {
  return path == "-" || path == "/dev/stdout" || path == "/dev/fd/1" || path == "/proc/self/fd/1";
}

namespace {
std::vector<NamedPath> files_only(const std::vector<NamedPath>& paths) {
  std::vector<NamedPath> out;
  for (const NamedPath& p : paths)
    if (!p.path.empty() && !is_stdout_path(p.path.string())) out.push_back(p);
  return out;
}
}  // namespace

void check_distinct(const std::vector<NamedPath>& inputs, const std::vector<NamedPath>& outputs) {
  check_outputs_distinct(files_only(inputs), files_only(outputs));
}

std::unique_ptr<OutputLock> claim_outputs(const std::vector<NamedPath>& inputs,
                                          const std::vector<NamedPath>& outputs) {
  check_distinct(inputs, outputs);
  std::vector<std::filesystem::path> files;
  for (const NamedPath& p : files_only(outputs)) files.push_back(p.path);
  return std::make_unique<OutputLock>(files, command_line());
}

void refuse_stdout(const NamedPath& output, std::string_view what) {
  if (is_stdout_path(output.path.string()))
    throw Error(
        fmt::format("{} {}: {} is written to a file as one atomic step, not streamed to "
                    "standard output; give a file path",
                    output.role, output.path.string(), what));
}

void write_stdout(std::string_view bytes) {
  errno = 0;
  if (std::fwrite(bytes.data(), 1, bytes.size(), stdout) != bytes.size()) stdout_failed(errno);
}

void flush_stdout() {
  errno = 0;
  if (std::fflush(stdout) != 0 || std::ferror(stdout) != 0) stdout_failed(errno);
}

}  // namespace backprop::cli
