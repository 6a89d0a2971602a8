#pragma once
// Refuses, before any work, a command whose output would overwrite one of its inputs or
// another of its outputs (`-o data.csv --data data.csv`, `--checkpoint m -o m`): the atomic
// writer would replace the input without a word, after the run that needed it.
#include <filesystem>
#include <string>
#include <vector>

namespace backprop {

// A path as the user named it, with the flag or argument that named it ("--data", "-o").
struct NamedPath {
  std::string role;
  std::filesystem::path path;
};

// Throws Error naming both when an output is the same file as an input or as another output.
// Paths are compared as files (symbolic links, `..` and hard links resolved) when they exist,
// and by their resolved names when they do not yet. Standard output ("-") is never a clash.
void check_outputs_distinct(const std::vector<NamedPath>& inputs,
                            const std::vector<NamedPath>& outputs);

}  // namespace backprop
