#include "signals.hpp"

#include <csignal>

namespace backprop::cli {

namespace {
std::atomic<bool> stop_flag{false};
std::atomic<int> stop_signal_number{0};

extern "C" void on_stop_signal(int signal) {
  stop_signal_number.store(signal);
  stop_flag.store(true);
}

}  // namespace

const std::atomic<bool>& install_interrupt_handlers() {
  struct sigaction action = {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags =
      static_cast<int>(SA_RESETHAND);  // the second signal gets the default action: exit now
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGHUP, &action, nullptr);
  return stop_flag;
}

const std::atomic<bool>& install_stop_handlers() {
  install_interrupt_handlers();
  // Not reset: the default action of a second SIGPIPE (the next write to the closed pipe)
  // would kill the process while it writes the checkpoint.
  struct sigaction pipe_action = {};
  pipe_action.sa_handler = on_stop_signal;
  sigemptyset(&pipe_action.sa_mask);
  sigaction(SIGPIPE, &pipe_action, nullptr);
  return stop_flag;
}

int stop_signal() { return stop_signal_number.load(); }

}  // namespace backprop::cli
