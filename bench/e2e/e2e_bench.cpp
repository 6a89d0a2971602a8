// End-to-end benchmark of backprop on Fashion-MNIST, one workload per process so that the
// driver (bench/run.py) can read each run's peak RSS. Prints one JSON object per run.
//
//   e2e_bench --workload W1|W2|W3 [--threads N] [--epochs E] [--limit N] [--data DIR] [--seed S]
//   [--json] e2e_bench --fma-peak [--json]          measured FMA peak on 1 and 2 threads e2e_bench
//   --bit-identical [--limit N]  trains W1 on 1 and 2 threads, compares parameters
//   e2e_bench --stats-overhead [--rounds R] [--limit N]  W1 epochs with the per-layer statistics
//   off and on, alternating, R rounds: the cost of recording them as a fraction of the epoch
//
// Workloads (docs/benchmarks.md):
//   W1  784-128-10 sigmoid, softmax + cross-entropy, SGD lr 0.1, batch 64
//   W2  784-512-256-10 ReLU, softmax + cross-entropy, Adam lr 1e-3, batch 128
//   W3  W1-shaped inference: batch-1 latency and batch-10000 throughput
//
// FLOP count of training (multiply and add counted separately): per sample and epoch,
//   2 * (3 * sum_l in_l * out_l - in_0 * out_0)
// i.e. three GEMMs per layer (Z = XW, dW = X^T dZ, dX = dZ W^T), no dX for the first layer.
// Inference: 2 * sum_l in_l * out_l per sample. Elementwise work (bias, activations, softmax,
// optimiser) is not counted.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "backprop/architecture.hpp"
#include "backprop/dataset.hpp"
#include "backprop/evaluate.hpp"
#include "backprop/idx.hpp"
#include "backprop/layer_stats.hpp"
#include "backprop/network.hpp"
#include "backprop/optimizer.hpp"
#include "backprop/preprocessing.hpp"
#include "backprop/thread_pool.hpp"
#include "backprop/trainer.hpp"
#include "kernels/gemm.hpp"

namespace {

using backprop::Activation;
using backprop::Architecture;
using backprop::Dataset;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string workload = "W1";
  int threads = 2;
  std::int64_t epochs = 1;
  std::int64_t limit = 0;  // training samples (W1, W2) or inference samples (W3); 0 = all
  std::string data = "/usr/share/datasets/fashion-mnist";
  std::uint64_t seed = 1;
  bool fma_peak = false;
  bool bit_identical = false;
  bool stats_overhead = false;
  std::int64_t rounds = 5;
  bool json = false;
};

[[noreturn]] void usage(const std::string& message) {
  std::fprintf(
      stderr,
      "e2e_bench: %s\n"
      "usage: e2e_bench --workload W1|W2|W3 [--threads N] [--epochs E] [--limit N] [--data DIR] "
      "[--seed S] [--json]\n"
      "       e2e_bench --fma-peak [--json]\n"
      "       e2e_bench --bit-identical [--limit N] [--data DIR] [--json]\n"
      "       e2e_bench --stats-overhead [--rounds R] [--threads N] [--limit N] [--data DIR] "
      "[--json]\n",
      message.c_str());
  std::exit(2);
}

std::int64_t parse_int(const std::string& flag, const std::string& text, std::int64_t min) {
  std::size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    usage(flag + " needs an integer, got '" + text + "'");
  }
  if (used != text.size() || v < min)
    usage(flag + " needs an integer >= " + std::to_string(min) + ", got '" + text + "'");
  return static_cast<std::int64_t>(v);
}

Options parse_args(int argc, char** argv) {
  Options o;
  const std::vector<std::string> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) usage(a + " needs a value");
      return args[++i];
    };
    if (a == "--workload") {
      o.workload = value();
      if (o.workload != "W1" && o.workload != "W2" && o.workload != "W3")
        usage("unknown workload '" + o.workload + "'");
    } else if (a == "--threads") {
      o.threads = static_cast<int>(parse_int(a, value(), 1));
    } else if (a == "--epochs") {
      o.epochs = parse_int(a, value(), 1);
    } else if (a == "--limit") {
      o.limit = parse_int(a, value(), 0);
    } else if (a == "--data") {
      o.data = value();
    } else if (a == "--seed") {
      o.seed = static_cast<std::uint64_t>(parse_int(a, value(), 0));
    } else if (a == "--fma-peak") {
      o.fma_peak = true;
    } else if (a == "--bit-identical") {
      o.bit_identical = true;
    } else if (a == "--stats-overhead") {
      o.stats_overhead = true;
    } else if (a == "--rounds") {
      o.rounds = parse_int(a, value(), 1);
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--help" || a == "-h") {
      usage("help");
    } else {
      usage("unknown argument '" + a + "'");
    }
  }
  return o;
}

// ---------------------------------------------------------------------------------------------
// FMA peak: the library's own measurement (independent FMA chains on every thread, on the
// instruction set the GEMM kernels use), so the benchmark and the kernels share one yardstick.

struct FmaPeak {
  std::string isa;
  double gflops_1 = 0, gflops_2 = 0;
};

FmaPeak fma_peak() {
  FmaPeak p;
  p.isa = backprop::kernels::gemm_path_name();
  p.gflops_1 = backprop::kernels::measure_fma_peak_gflops(1, 0.3);
  p.gflops_2 = backprop::kernels::measure_fma_peak_gflops(2, 0.3);
  return p;
}

// ---------------------------------------------------------------------------------------------
// Workloads

struct Data {
  Dataset train, test;
};

Data load(const std::string& dir) {
  const auto found = backprop::find_idx_directory(dir);
  if (!found) throw std::runtime_error("no IDX data (train-images-idx3-ubyte[.gz]) in " + dir);
  if (!found->test_images) throw std::runtime_error("no t10k test files in " + dir);
  Data d;
  d.train = backprop::read_idx(found->train_images, found->train_labels);
  d.test = backprop::read_idx(*found->test_images, *found->test_labels);
  return d;
}

Architecture w1_architecture() {
  Architecture a;
  a.widths = {784, 128, 10};
  a.activations = {Activation::sigmoid};
  return a;
}

Architecture w2_architecture() {
  Architecture a;
  a.widths = {784, 512, 256, 10};
  a.activations = {Activation::relu, Activation::relu};
  return a;
}

double sum_in_out(const Architecture& a) {
  double s = 0;
  for (std::size_t l = 0; l + 1 < a.widths.size(); ++l)
    s += static_cast<double>(a.widths[l] * a.widths[l + 1]);
  return s;
}

// Training FLOP per sample: 3 GEMMs of 2*in*out per layer, minus the first layer's dX.
double train_flop_per_sample(const Architecture& a) {
  return 2.0 * (3.0 * sum_in_out(a) - static_cast<double>(a.widths[0] * a.widths[1]));
}

double inference_flop_per_sample(const Architecture& a) { return 2.0 * sum_in_out(a); }

std::vector<std::int64_t> first_rows(std::int64_t n) {
  std::vector<std::int64_t> rows(static_cast<std::size_t>(n));
  std::iota(rows.begin(), rows.end(), std::int64_t{0});
  return rows;
}

struct TrainResult {
  double seconds = 0;
  std::int64_t samples = 0;  // samples processed over all epochs
  double train_loss = 0;
  double test_accuracy = 0;
  std::vector<float> parameters;
};

TrainResult train(const std::string& workload, const Data& data, int threads, std::int64_t epochs,
                  std::int64_t limit, std::uint64_t seed) {
  const bool w1 = workload == "W1";
  const Architecture arch = w1 ? w1_architecture() : w2_architecture();
  backprop::TrainOptions opt;
  opt.epochs = epochs;
  opt.batch = w1 ? 64 : 128;
  opt.seed = seed;
  opt.optimizer.kind = w1 ? backprop::OptimizerKind::sgd : backprop::OptimizerKind::adam;
  opt.schedule.base_lr = w1 ? 0.1f : 1e-3f;
  const std::int64_t n = limit > 0 ? std::min(limit, data.train.rows) : data.train.rows;
  const auto rows = first_rows(n);
  const auto prep =
      backprop::Preprocessing::fit(backprop::Normalization::unit_range, data.train, rows);
  backprop::ThreadPool pool(threads);
  backprop::Network net(arch, opt.batch);
  net.initialize(seed);
  backprop::Trainer trainer(net, prep, opt, data.train, rows, pool);
  trainer.set_test(data.test);
  trainer.run();
  TrainResult r;
  for (const auto& m : trainer.state().history) r.seconds += m.seconds;
  r.samples = n * epochs;
  r.train_loss = trainer.state().history.back().train_loss;
  r.test_accuracy = trainer.state().history.back().test_accuracy;
  r.parameters.assign(net.parameters().begin(), net.parameters().end());
  return r;
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

nlohmann::json run_training(const Options& o, const Data& data) {
  const TrainResult r = train(o.workload, data, o.threads, o.epochs, o.limit, o.seed);
  const Architecture arch = o.workload == "W1" ? w1_architecture() : w2_architecture();
  const double flop = train_flop_per_sample(arch) * static_cast<double>(r.samples);
  nlohmann::json j;
  j["engine"] = "backprop";
  j["workload"] = o.workload;
  j["threads"] = o.threads;
  j["epochs"] = o.epochs;
  j["samples"] = r.samples;
  j["seconds"] = r.seconds;
  j["samples_per_second"] = static_cast<double>(r.samples) / r.seconds;
  j["flop"] = flop;
  j["gflops"] = flop / r.seconds / 1e9;
  j["train_loss"] = r.train_loss;
  j["test_accuracy"] = r.test_accuracy;
  return j;
}

// W3: an initialised (untrained) W1 network; inference cost does not depend on the weights.
// Inputs are converted to float up front so that only forward passes are timed.
nlohmann::json run_inference(const Options& o, const Data& data) {
  const Architecture arch = w1_architecture();
  const std::int64_t n = o.limit > 0 ? std::min(o.limit, data.test.rows) : data.test.rows;
  const auto rows = first_rows(n);
  const auto prep = backprop::Preprocessing::fit(backprop::Normalization::unit_range, data.train,
                                                 first_rows(data.train.rows));
  backprop::AlignedBuffer<float> x(static_cast<std::size_t>(n * arch.inputs()));
  backprop::gather_batch(backprop::MatrixView(x.data(), n, arch.inputs()), data.test, prep, rows);
  backprop::ThreadPool pool(o.threads);
  backprop::Network net(arch, n);
  net.initialize(o.seed);
  const backprop::ConstMatrixView all(x.data(), n, arch.inputs());
  double checksum = 0;

  // Batch 1: every sample on its own, one warm-up pass over the first 100.
  for (std::int64_t i = 0; i < std::min<std::int64_t>(n, 100); ++i)
    checksum += static_cast<double>(net.forward(all.top_rows(1), pool)(0, 0));
  auto t0 = Clock::now();
  for (std::int64_t i = 0; i < n; ++i) {
    const backprop::ConstMatrixView one(x.data() + i * arch.inputs(), 1, arch.inputs());
    checksum += static_cast<double>(net.forward(one, pool)(0, 0));
  }
  const double b1_seconds = std::chrono::duration<double>(Clock::now() - t0).count();

  // Batch n: one warm-up, then the mean of `reps` passes.
  const int reps = 5;
  checksum += static_cast<double>(net.forward(all, pool)(0, 0));
  t0 = Clock::now();
  for (int r = 0; r < reps; ++r) checksum += static_cast<double>(net.forward(all, pool)(n - 1, 0));
  const double bn_seconds = std::chrono::duration<double>(Clock::now() - t0).count() / reps;

  const double flop1 = inference_flop_per_sample(arch);
  const double nd = static_cast<double>(n);
  nlohmann::json j;
  j["engine"] = "backprop";
  j["workload"] = "W3";
  j["threads"] = o.threads;
  j["samples"] = n;
  j["batch1_seconds"] = b1_seconds;
  j["latency_us"] = b1_seconds / nd * 1e6;
  j["batch1_samples_per_second"] = nd / b1_seconds;
  j["batch1_gflops"] = flop1 * nd / b1_seconds / 1e9;
  j["batch"] = n;
  j["seconds"] = bn_seconds;
  j["samples_per_second"] = nd / bn_seconds;
  j["flop"] = flop1 * nd;
  j["gflops"] = flop1 * nd / bn_seconds / 1e9;
  j["checksum"] = checksum;
  return j;
}

nlohmann::json run_bit_identical(const Options& o, const Data& data) {
  const TrainResult one = train("W1", data, 1, o.epochs, o.limit, o.seed);
  const TrainResult two = train("W1", data, 2, o.epochs, o.limit, o.seed);
  const bool same = one.parameters.size() == two.parameters.size() &&
                    std::memcmp(one.parameters.data(), two.parameters.data(),
                                one.parameters.size() * sizeof(float)) == 0;
  std::size_t differing = 0;
  for (std::size_t i = 0; i < std::min(one.parameters.size(), two.parameters.size()); ++i)
    differing += std::memcmp(&one.parameters[i], &two.parameters[i], sizeof(float)) != 0 ? 1U : 0U;
  nlohmann::json j;
  j["engine"] = "backprop";
  j["workload"] = "W1";
  j["check"] = "bit_identical_1_vs_2_threads";
  j["samples"] = one.samples;
  j["parameters"] = one.parameters.size();
  j["differing_parameters"] = differing;
  j["bit_identical"] = same;
  return j;
}

// W1 (784-128-10 sigmoid, SGD, batch 64) for one epoch per run, timed around Trainer::run (the
// steps and the end of the epoch, where the probe pass is), with the statistics off and on in
// alternating order (off-on, on-off, ...) so that drift in the machine's speed hits both alike.
nlohmann::json run_stats_overhead(const Options& o, const Data& data) {
  const Architecture arch = w1_architecture();
  const std::int64_t n = o.limit > 0 ? std::min(o.limit, data.train.rows) : data.train.rows;
  const auto rows = first_rows(n);
  const auto prep =
      backprop::Preprocessing::fit(backprop::Normalization::unit_range, data.train, rows);
  backprop::ThreadPool pool(o.threads);
  const auto epoch_seconds = [&](bool stats) {
    backprop::TrainOptions opt;
    opt.epochs = 1;
    opt.batch = 64;
    opt.seed = o.seed;
    opt.schedule.base_lr = 0.1f;
    opt.layer_stats = stats;
    backprop::Network net(arch, opt.batch);
    net.initialize(o.seed);
    backprop::Trainer trainer(net, prep, opt, data.train, rows, pool);
    const auto t0 = Clock::now();
    trainer.run();
    return std::chrono::duration<double>(Clock::now() - t0).count();
  };
  epoch_seconds(true);  // warm-up: caches, page faults, the pool
  std::vector<double> off, on;
  for (std::int64_t r = 0; r < o.rounds; ++r) {
    const bool on_first = r % 2 == 1;
    if (on_first) on.push_back(epoch_seconds(true));
    off.push_back(epoch_seconds(false));
    if (!on_first) on.push_back(epoch_seconds(true));
  }
  const auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t m = v.size() / 2;
    return v.size() % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
  };
  // The recorder's own work per epoch (one sampled step's snapshot and norms, the probe pass),
  // timed alone: a figure below the noise of whole epochs.
  backprop::Network net(arch, 64);
  net.initialize(o.seed);
  backprop::LayerStatsRecorder recorder(arch, data.train, prep, rows, net.parameters().size());
  const int reps = 50;
  const auto t0 = Clock::now();
  for (int r = 0; r < reps; ++r) {
    recorder.before_step(net);
    recorder.after_step(net, 0.1f, false);
    recorder.finish_epoch(net, pool);
  }
  const double direct = std::chrono::duration<double>(Clock::now() - t0).count() / reps;
  nlohmann::json j;
  j["recorder_seconds_per_epoch"] = direct;
  j["recorder_percent_of_epoch"] = 100.0 * direct / median(off);
  j["engine"] = "backprop";
  j["workload"] = "W1";
  j["check"] = "layer_stats_overhead";
  j["threads"] = o.threads;
  j["samples"] = n;
  j["rounds"] = o.rounds;
  j["seconds_off"] = off;
  j["seconds_on"] = on;
  j["median_off"] = median(off);
  j["median_on"] = median(on);
  j["ratio"] = median(on) / median(off);
  j["overhead_percent"] = 100.0 * (median(on) / median(off) - 1.0);
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options o = parse_args(argc, argv);
    nlohmann::json j;
    if (o.fma_peak) {
      const FmaPeak p = fma_peak();
      j["check"] = "fma_peak";
      j["isa"] = p.isa;
      j["gflops_1_thread"] = p.gflops_1;
      j["gflops_2_threads"] = p.gflops_2;
      if (!o.json)
        std::printf("FMA peak (%s): 1 thread %.1f GFLOP/s, 2 threads %.1f GFLOP/s\n", p.isa.c_str(),
                    p.gflops_1, p.gflops_2);
    } else {
      const Data data = load(o.data);
      if (o.stats_overhead) {
        j = run_stats_overhead(o, data);
        if (!o.json) {
          for (std::size_t r = 0; r < j["seconds_off"].size(); ++r)
            std::printf("round %zu: stats off %.3f s, on %.3f s\n", r + 1,
                        j["seconds_off"][r].get<double>(), j["seconds_on"][r].get<double>());
          std::printf(
              "W1 epoch, median of %lld: stats off %.3f s, on %.3f s, ratio %.4f (%+.2f%%)\n",
              static_cast<long long>(o.rounds), j["median_off"].get<double>(),
              j["median_on"].get<double>(), j["ratio"].get<double>(),
              j["overhead_percent"].get<double>());
          std::printf("recorder alone: %.2f ms per epoch, %.3f%% of the median epoch without it\n",
                      1e3 * j["recorder_seconds_per_epoch"].get<double>(),
                      j["recorder_percent_of_epoch"].get<double>());
        }
      } else if (o.bit_identical) {
        j = run_bit_identical(o, data);
        if (!o.json)
          std::printf("bit-identical 1 vs 2 threads: %s\n",
                      j["bit_identical"].get<bool>() ? "yes" : "no");
      } else if (o.workload == "W3") {
        j = run_inference(o, data);
        if (!o.json)
          std::printf(
              "W3 %d threads: batch 1 %.2f us/sample, batch %lld %.0f samples/s (%.1f GFLOP/s)\n",
              o.threads, j["latency_us"].get<double>(),
              static_cast<long long>(j["batch"].get<std::int64_t>()),
              j["samples_per_second"].get<double>(), j["gflops"].get<double>());
      } else {
        j = run_training(o, data);
        if (!o.json)
          std::printf("%s %d threads: %.3f s, %.0f samples/s, %.1f GFLOP/s, test accuracy %.4f\n",
                      o.workload.c_str(), o.threads, j["seconds"].get<double>(),
                      j["samples_per_second"].get<double>(), j["gflops"].get<double>(),
                      j["test_accuracy"].get<double>());
      }
    }
    j["peak_rss_mb"] = peak_rss_mb();
    if (o.json) std::printf("%s\n", j.dump().c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "e2e_bench: %s\n", e.what());
    return 1;
  }
}
