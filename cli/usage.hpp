#pragma once
// Usage errors of a subcommand: an unknown option gets the closest of the subcommand's own
// options ("unknown option --optimiser; did you mean --optimizer?") and every usage message
// points at the subcommand's help, not the tool's.
#include <CLI/CLI.hpp>
#include <stdexcept>
#include <string>

namespace backprop::cli {

// A mistake in the command line (exit status kUsage); the message is complete.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "(see backprop train --help)" for a subcommand, "(see backprop --help)" for the tool.
std::string help_pointer(const CLI::App& cmd);

// Throws UsageError for the first argument the subcommand did not take (subcommands allow
// extras so that this message, not CLI11's, describes them).
void reject_extras(const CLI::App& cmd);

// The subcommand's option closest to `typed` by edit distance (insertions, deletions,
// substitutions and swaps of neighbours), or "" when none is close enough to be a typo.
std::string closest_option(const CLI::App& cmd, const std::string& typed);

}  // namespace backprop::cli
