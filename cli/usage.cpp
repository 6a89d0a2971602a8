#include "usage.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace backprop::cli {

namespace {

// Optimal string alignment distance: Levenshtein plus the swap of two neighbours, so that
// "--epcohs" is one step from "--epochs".
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

std::string full_name(const CLI::App& cmd) {
  std::string name = cmd.get_name();
  // The root's name is argv[0]; the help pointer says "backprop" instead.
  for (const CLI::App* p = cmd.get_parent(); p != nullptr && p->get_parent() != nullptr;
       p = p->get_parent())
    name = p->get_name() + " " + name;
  return name;
}

// Names other tools use for an option of ours, too far from ours for an edit distance to find.
constexpr std::pair<const char*, const char*> kSynonyms[] = {
    {"--learning-rate", "--lr"}, {"--learning_rate", "--lr"},   {"--batch-size", "--batch"},
    {"--batch_size", "--batch"}, {"--batchsize", "--batch"},    {"--n-epochs", "--epochs"},
    {"--out", "--output"},       {"--num-threads", "--threads"}};

bool has_option(const CLI::App& cmd, const std::string& name) {
  for (const CLI::Option* option : cmd.get_options())
    for (const auto& l : option->get_lnames())
      if ("--" + l == name) return true;
  return false;
}

}  // namespace

std::string help_pointer(const CLI::App& cmd) {
  const std::string name = cmd.get_parent() == nullptr ? std::string() : full_name(cmd);
  return fmt::format("(see backprop {}--help)", name.empty() ? "" : name + " ");
}

std::string closest_option(const CLI::App& cmd, const std::string& typed) {
  // "--lr=0.1": the name is what comes before '='.
  const std::string name = typed.substr(0, typed.find('='));
  for (const auto& [other, ours] : kSynonyms)
    if (name == other && has_option(cmd, ours)) return ours;
  std::string best;
  std::size_t best_distance = 0;
  for (const CLI::Option* option : cmd.get_options()) {
    std::vector<std::string> names;
    for (const auto& l : option->get_lnames()) names.push_back("--" + l);
    for (const auto& s : option->get_snames()) names.push_back("-" + s);
    for (const auto& candidate : names) {
      // A prefix ("--epoch" of "--epochs") is as close as one typo.
      const bool prefix = name.size() > 3 && candidate.rfind(name, 0) == 0;
      const std::size_t distance = prefix ? 1 : edit_distance(name, candidate);
      if (best.empty() || distance < best_distance) {
        best = candidate;
        best_distance = distance;
      }
    }
  }
  // At most one edit in three characters after the dashes: "--optimiser" (1 of 9) is a typo
  // of "--optimizer"; "--foo" is not one of "--loss".
  const std::size_t letters = name.size() - std::min(name.find_first_not_of('-'), name.size());
  const std::size_t allowed = std::max<std::size_t>(1, letters / 3);
  return best_distance <= allowed ? best : std::string();
}

void reject_extras(const CLI::App& cmd) {
  const std::vector<std::string> extras = cmd.remaining();
  if (extras.empty()) return;
  const std::string& first = extras.front();
  if (first.size() > 1 && first[0] == '-') {
    const std::string suggestion = closest_option(cmd, first);
    throw UsageError(fmt::format(
        "unknown option {}{} {}", first.substr(0, first.find('=')),
        suggestion.empty() ? std::string() : fmt::format("; did you mean {}?", suggestion),
        help_pointer(cmd)));
  }
  throw UsageError(fmt::format("unexpected argument '{}' {}", first, help_pointer(cmd)));
}

}  // namespace backprop::cli
