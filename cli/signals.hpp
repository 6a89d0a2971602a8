#pragma once
// Ctrl-C and SIGTERM during training: the first one asks the trainer to stop after the current
// step (it then writes a checkpoint); a second one ends the process at once.
#include <atomic>

namespace backprop::cli {

// Installs the handlers and returns the flag they set. Signal handlers can reach only static
// storage, so the flag is the one piece of process-wide state in the tool.
const std::atomic<bool>& install_stop_handlers();
int stop_signal();  // the signal that set the flag (0 if none)

}  // namespace backprop::cli
