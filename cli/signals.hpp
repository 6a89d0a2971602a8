#pragma once
// Signals that end a run. During training, the first SIGINT (Ctrl-C), SIGTERM or SIGHUP (the
// terminal or ssh session closed) asks the trainer to stop after the current step (it then writes
// a checkpoint); a second one ends the process at once. SIGPIPE (the reader of standard output
// went away, e.g. `| head`) asks the same, and makes later writes to the pipe fail with EPIPE
// instead of killing the process before the checkpoint is safe.
#include <atomic>
#include <string_view>

namespace backprop::cli {

// Installs the handlers and returns the flag they set. Signal handlers can reach only static
// storage, so the flag is the one piece of process-wide state in the tool.
const std::atomic<bool>& install_stop_handlers();
int stop_signal();  // the signal that set the flag (0 if none)

// For commands that write one file at the end (predict): SIGINT, SIGTERM and SIGHUP only set
// the flag, which the command checks before it writes, so that a signal never cuts a write short
// and leaves a temporary file; a second signal ends the process at once. SIGPIPE keeps its
// default action (`predict | head` ends quietly).
const std::atomic<bool>& install_interrupt_handlers();

}  // namespace backprop::cli
