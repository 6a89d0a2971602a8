#pragma once
// Helpers shared by the end-to-end tests of the `backprop` tool (cli_test, cli_reliability_test,
// model_file_test): running the built executable with captured output, exit status and a
// timeout (also as a child the test can signal while it runs), private temporary directories,
// and small generated data sets (IDX images in an MNIST-layout directory, CSV files).
//
// Every generator is a pure function of its seed (its own splitmix64, not <random>'s
// implementation-defined distributions), so a failure reproduces exactly.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "backprop/idx.hpp"

extern char** environ;

namespace backprop::test {

namespace fs = std::filesystem;

// ---- The executable ---------------------------------------------------------------------------

inline std::string cli_path() { return BACKPROP_CLI_PATH; }

// Tests that need the tool call this first: GTEST_SKIP when the CLI was not built.
#define BACKPROP_REQUIRE_CLI()                                                          \
  do {                                                                                  \
    if (::backprop::test::cli_path().empty() ||                                         \
        !std::filesystem::exists(::backprop::test::cli_path()))                         \
      GTEST_SKIP() << "the backprop executable was not built (BACKPROP_BUILD_CLI=OFF)"; \
  } while (false)

// ---- Files ------------------------------------------------------------------------------------

inline std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

inline std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::string line;
  std::istringstream in(text);
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

inline std::vector<std::string> split_fields(const std::string& line, char separator = ',') {
  std::vector<std::string> fields;
  std::string field;
  for (const char c : line) {
    if (c == separator) {
      fields.push_back(field);
      field.clear();
    } else {
      field += c;
    }
  }
  fields.push_back(field);
  return fields;
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it when this dies.
// Set BACKPROP_KEEP_TEST_DIRS=1 to keep it for a post-mortem.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern =
        (fs::path(base != nullptr && *base != '\0' ? base : "/tmp") / "backprop-test-XXXXXX")
            .string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    const char* keep = std::getenv("BACKPROP_KEEP_TEST_DIRS");
    if (keep != nullptr && std::string(keep) == "1") return;
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }
  std::string str(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

// ---- Running the tool -------------------------------------------------------------------------

struct RunResult {
  int exit_code = -1;  // the exit status if the process exited, else -1
  int signal = 0;      // the signal that ended it, else 0
  bool timed_out = false;
  std::string out, err;
  double seconds = 0;

  // For failure messages: everything needed to see what happened.
  std::string describe() const {
    std::ostringstream s;
    s << "exit " << exit_code << ", signal " << signal << (timed_out ? ", TIMED OUT" : "") << ", "
      << seconds << " s\n--- stdout ---\n"
      << out << "--- stderr ---\n"
      << err;
    return s.str();
  }
};

// A running child process with its stdout and stderr captured through pipes. The destructor
// kills (SIGKILL) and reaps it if it is still running.
class Child {
 public:
  explicit Child(const std::vector<std::string>& args)
      : started_(std::chrono::steady_clock::now()) {
    int out_pipe[2];
    int err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0)
      throw std::runtime_error("pipe2 failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    // The child starts with default dispositions for the signals the tests send, whatever the
    // test runner set up.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGPIPE);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    sigset_t empty;
    sigemptyset(&empty);
    posix_spawnattr_setsigmask(&attr, &empty);
    posix_spawnattr_setflags(&attr,
                             static_cast<short>(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK));
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const int rc =
        ::posix_spawn(&pid_, args.front().c_str(), &actions, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    out_fd_ = out_pipe[0];
    err_fd_ = err_pipe[0];
    if (rc != 0) {
      close_pipes();
      throw std::runtime_error("posix_spawn " + args.front() + " failed: error " +
                               std::to_string(rc));
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (!reaped_) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    close_pipes();
  }

  pid_t pid() const { return pid_; }
  const std::string& out() const { return result_.out; }
  const std::string& err() const { return result_.err; }
  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  }

  void send(int sig) {
    if (!reaped_) ::kill(pid_, sig);
  }

  // Reads whatever output is available, waiting up to timeout_ms for some; then checks (without
  // blocking) whether the child has ended. Returns true while it is still running.
  bool pump(int timeout_ms) {
    std::vector<pollfd> fds;
    if (out_fd_ >= 0) fds.push_back({out_fd_, POLLIN, 0});
    if (err_fd_ >= 0) fds.push_back({err_fd_, POLLIN, 0});
    if (!fds.empty() && ::poll(fds.data(), fds.size(), timeout_ms) > 0) {
      for (const auto& p : fds) {
        if ((p.revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        char buffer[65536];
        const ssize_t n = ::read(p.fd, buffer, sizeof buffer);
        const bool is_out = p.fd == out_fd_;
        if (n > 0) {
          (is_out ? result_.out : result_.err).append(buffer, static_cast<std::size_t>(n));
        } else {
          ::close(p.fd);
          (is_out ? out_fd_ : err_fd_) = -1;
        }
      }
    } else if (fds.empty() && timeout_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
    }
    if (!reaped_) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) record(status);
    }
    return !reaped_;
  }

  // Waits for the end (killing the child after timeout_s) and for the rest of its output.
  RunResult wait(double timeout_s) {
    while (!reaped_ || out_fd_ >= 0 || err_fd_ >= 0) {
      pump(20);
      if (!reaped_ && elapsed() > timeout_s) {
        result_.timed_out = true;
        ::kill(pid_, SIGKILL);
      }
      // A grandchild holding the pipes open must not hang the test after the child has ended.
      if (reaped_ && elapsed() > timeout_s + 5) break;
    }
    result_.seconds = elapsed();
    return result_;
  }

 private:
  void record(int status) {
    reaped_ = true;
    if (WIFEXITED(status)) result_.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) result_.signal = WTERMSIG(status);
  }
  void close_pipes() {
    if (out_fd_ >= 0) ::close(out_fd_);
    if (err_fd_ >= 0) ::close(err_fd_);
    out_fd_ = err_fd_ = -1;
  }

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  bool reaped_ = false;
  RunResult result_;
  std::chrono::steady_clock::time_point started_;
};

// Runs `backprop args...` to completion (killed after timeout_s) and returns what it did.
inline RunResult run_cli(const std::vector<std::string>& args, double timeout_s = 60) {
  std::vector<std::string> argv{cli_path()};
  argv.insert(argv.end(), args.begin(), args.end());
  Child child(argv);
  return child.wait(timeout_s);
}

// The argv of `backprop args...`, for a Child the test watches while it runs.
inline std::vector<std::string> cli_argv(const std::vector<std::string>& args) {
  std::vector<std::string> argv{cli_path()};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

// ---- Generated data ---------------------------------------------------------------------------

// splitmix64: a tiny generator whose output is the same everywhere.
class TestRng {
 public:
  explicit TestRng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  int below(int n) { return static_cast<int>(next() % static_cast<std::uint64_t>(n)); }

 private:
  std::uint64_t state_;
};

inline constexpr int kIdxSide = 8;  // 8x8 images: 64 features
inline constexpr int kIdxClasses = 10;

// `count` 8x8 images with labels cycling through 0..9 (shuffled): each class lights up its own
// band of 6 pixels (values 180..255) over background noise (0..60).
inline void make_idx_images(int count, std::uint64_t seed, std::vector<std::uint8_t>& pixels,
                            std::vector<std::uint8_t>& labels) {
  TestRng rng(seed);
  constexpr int p = kIdxSide * kIdxSide;
  pixels.assign(static_cast<std::size_t>(count) * p, 0);
  labels.assign(static_cast<std::size_t>(count), 0);
  for (int i = 0; i < count; ++i) {
    const int label = (i + rng.below(kIdxClasses)) % kIdxClasses;
    labels[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(label);
    for (int j = 0; j < p; ++j) {
      const bool lit = j / 6 == label;
      const int value = lit ? 180 + rng.below(76) : rng.below(61);
      pixels[static_cast<std::size_t>(i * p + j)] = static_cast<std::uint8_t>(value);
    }
  }
}

// An MNIST-layout directory: train-{images,labels} with `train` samples and t10k-* with `test`.
inline void write_idx_dataset(const fs::path& dir, int train = 600, int test = 200,
                              std::uint64_t seed = 1) {
  fs::create_directories(dir);
  std::vector<std::uint8_t> pixels, labels;
  make_idx_images(train, seed, pixels, labels);
  write_idx_images(dir / "train-images-idx3-ubyte", train, kIdxSide, kIdxSide, pixels);
  write_idx_labels(dir / "train-labels-idx1-ubyte", labels);
  make_idx_images(test, seed + 1000, pixels, labels);
  write_idx_images(dir / "t10k-images-idx3-ubyte", test, kIdxSide, kIdxSide, pixels);
  write_idx_labels(dir / "t10k-labels-idx1-ubyte", labels);
}

// The class of a point of the classification CSV: both features decide it (bands of
// small + big / 1e6), so a model that ignores either one, or fails to scale the big one,
// cannot reach a high accuracy.
inline std::string animal_for(double small, double big) {
  const double s = small + big / 1e6;
  return s < 0.75 ? "cat" : (s < 1.25 ? "dog" : "bird");
}

struct CsvRows {
  bool with_id = false;     // a leading "id" column r0000, r0001, ...
  bool with_label = true;   // the "animal" column
  std::string extra_label;  // if set, the last row's label is this (an unseen class)

  CsvRows& id() {
    with_id = true;
    return *this;
  }
  CsvRows& no_label() {
    with_label = false;
    return *this;
  }
  CsvRows& last_label(const std::string& label) {
    extra_label = label;
    return *this;
  }
};

// "id,small,big,animal": small in [0, 1], big in [0, 1e6]; the label is animal_for(small, big).
// `truth` (if given) receives each row's true label, also when the file leaves it out.
inline std::string make_animals_csv(int rows, std::uint64_t seed, const CsvRows& o = {},
                                    std::vector<std::string>* truth = nullptr) {
  TestRng rng(seed);
  std::string text = o.with_id ? "id," : "";
  text += o.with_label ? "small,big,animal\n" : "small,big\n";
  char id[32];
  for (int i = 0; i < rows; ++i) {
    const double small = rng.uniform();
    const double big = rng.uniform() * 1e6;
    std::string label = animal_for(small, big);
    if (!o.extra_label.empty() && i == rows - 1) label = o.extra_label;
    if (truth != nullptr) truth->push_back(label);
    if (o.with_id) {
      std::snprintf(id, sizeof id, "r%04d,", i);
      text += id;
    }
    std::ostringstream row;
    row.precision(9);
    row << small << ',' << big;
    text += row.str();
    if (o.with_label) text += "," + label;
    text += "\n";
  }
  return text;
}

// The target of the regression CSV: linear in three features plus a mild nonlinearity.
inline double regression_target(double a, double b, double c) {
  return 2.0 * a - 3.0 * b + c + 0.5 * std::sin(3.0 * a);
}

// "a,b,c,y" with a, b, c in [-1, 1] and y = regression_target + noise of standard deviation
// about 0.05 (so R^2 close to 1 is reachable, but not exactly 1).
inline std::string make_regression_csv(int rows, std::uint64_t seed) {
  TestRng rng(seed);
  std::string text = "a,b,c,y\n";
  for (int i = 0; i < rows; ++i) {
    const double a = rng.uniform(-1, 1), b = rng.uniform(-1, 1), c = rng.uniform(-1, 1);
    const double noise = 0.05 * (rng.uniform() + rng.uniform() + rng.uniform() - 1.5) * 2.0;
    std::ostringstream row;
    row.precision(9);
    row << a << ',' << b << ',' << c << ',' << regression_target(a, b, c) + noise << '\n';
    text += row.str();
  }
  return text;
}

}  // namespace backprop::test
