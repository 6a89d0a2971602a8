#include "core/distinct_paths.hpp"

#include <sys/stat.h>

#include <optional>
#include <utility>

#include <fmt/format.h>

#include "backprop/error.hpp"
#include "core/atomic_file.hpp"

namespace backprop {
namespace {

namespace fs = std::filesystem;

// What identifies a file: its device and inode when it exists (hard links, links and `..` all
// lead there), else its resolved name.
struct Identity {
  std::optional<std::pair<dev_t, ino_t>> inode;
  fs::path resolved;

  bool operator==(const Identity& other) const {
    if (inode && other.inode) return *inode == *other.inode;
    return resolved == other.resolved;
  }
};

Identity identify(const fs::path& path) {
  Identity id;
  std::error_code ec;
  id.resolved = fs::weakly_canonical(fs::absolute(follow_symlinks(path), ec), ec);
  if (ec) id.resolved = fs::absolute(path).lexically_normal();
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) id.inode = std::make_pair(st.st_dev, st.st_ino);
  return id;
}

bool is_stdout(const fs::path& path) { return path == "-"; }

}  // namespace

void check_outputs_distinct(const std::vector<NamedPath>& inputs,
                            const std::vector<NamedPath>& outputs) {
  std::vector<Identity> output_ids;
  for (const NamedPath& out : outputs) {
    output_ids.push_back(is_stdout(out.path) ? Identity{} : identify(out.path));
  }
  for (std::size_t o = 0; o < outputs.size(); ++o) {
    if (is_stdout(outputs[o].path)) continue;
    const Identity& id = output_ids[o];
    for (const NamedPath& in : inputs) {
      if (in.path.empty() || is_stdout(in.path)) continue;
      if (identify(in.path) == id) {
        throw Error(
            fmt::format("{} {} would overwrite the input {} {} (both are {}); choose "
                        "another output path",
                        outputs[o].role, outputs[o].path.string(), in.role, in.path.string(),
                        id.resolved.string()));
      }
    }
    for (std::size_t p = 0; p < o; ++p) {
      if (is_stdout(outputs[p].path) || !(output_ids[p] == id)) continue;
      throw Error(
          fmt::format("{} {} and {} {} are the same file ({}); give each output a path "
                      "of its own",
                      outputs[p].role, outputs[p].path.string(), outputs[o].role,
                      outputs[o].path.string(), id.resolved.string()));
    }
  }
}

}  // namespace backprop
