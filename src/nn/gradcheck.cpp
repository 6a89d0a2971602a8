#include "backprop/gradcheck.hpp"

#include <algorithm>
#include <cmath>

#include "backprop/rng.hpp"

namespace backprop {

double GradcheckReport::max_relative_error() const {
  double worst = 0.0;
  for (const auto& t : tensors) worst = std::max(worst, t.max_relative_error);
  return worst;
}

bool GradcheckReport::gradient_all_zero() const {
  return std::all_of(tensors.begin(), tensors.end(),
                     [](const TensorCheck& t) { return t.max_abs_gradient == 0.0; });
}

namespace {

// Which entries of a tensor of n entries to check: all, or a seeded sample of max_entries.
std::vector<std::int64_t> entries_to_check(std::int64_t n, std::int64_t max_entries, Rng& rng) {
  std::vector<std::int64_t> all(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) all[static_cast<std::size_t>(i)] = i;
  if (max_entries <= 0 || max_entries >= n) return all;
  shuffle(all, rng);
  all.resize(static_cast<std::size_t>(max_entries));
  std::sort(all.begin(), all.end());
  return all;
}

GradcheckReport check(BasicNetwork<double>& net, const GradcheckOptions& options) {
  const Architecture& arch = net.architecture();
  ThreadPool pool(1);
  Rng rng(hash_key(options.seed, 0x6772616463686b));  // "gradchk"
  const std::int64_t rows = options.batch;
  const std::int64_t p = arch.inputs();
  const std::int64_t r = arch.outputs();

  std::vector<double> x(static_cast<std::size_t>(rows * p));
  for (auto& v : x) v = 2.0 * rng.uniform() - 1.0;
  std::vector<std::int32_t> labels(static_cast<std::size_t>(rows));
  for (auto& label : labels)
    label = static_cast<std::int32_t>(rng.below(static_cast<std::uint64_t>(r)));
  std::vector<double> targets(static_cast<std::size_t>(rows * r));
  for (auto& v : targets) v = 2.0 * rng.uniform() - 1.0;

  Batch<double> batch;
  batch.x = View<const double>(x.data(), rows, p);
  batch.labels = labels;
  batch.targets = View<const double>(targets.data(), rows, r);
  const bool dropout = options.with_dropout && arch.dropout > 0.0f;
  const std::uint64_t key = hash_key(options.seed, 0x64726f70);  // "drop"
  const auto mask = dropout ? std::optional<std::uint64_t>(key) : std::nullopt;

  const double base_loss = net.forward_backward(batch, key, pool);
  // Rounding in L(theta +- h) is about eps |L| / h, so the floor grows with the loss.
  const double floor = options.floor * std::max(1.0, std::abs(base_loss));
  const std::vector<double> analytic(net.gradients().begin(), net.gradients().end());

  // Every tensor's entries to check: all, or max_entries of them.
  std::int64_t total = 0;
  for (std::int64_t l = 0; l < net.num_layers(); ++l)
    for (const std::int64_t count :
         {net.weight(l).size(), static_cast<std::int64_t>(net.bias(l).size())})
      total += options.max_entries > 0 ? std::min(count, options.max_entries) : count;
  std::int64_t done = 0;

  GradcheckReport report;
  for (std::int64_t l = 0; l < net.num_layers(); ++l) {
    struct Block {
      std::string name;
      double* values;
      std::int64_t count;
      const double* grads;
    };
    auto w = net.weight(l);
    auto b = net.bias(l);
    const std::ptrdiff_t w_offset = w.data - net.parameters().data();
    const std::ptrdiff_t b_offset = b.data() - net.parameters().data();
    const Block blocks[2] = {
        {"W" + std::to_string(l + 1), w.data, w.size(), analytic.data() + w_offset},
        {"b" + std::to_string(l + 1), b.data(), static_cast<std::int64_t>(b.size()),
         analytic.data() + b_offset},
    };
    for (const auto& block : blocks) {
      TensorCheck t;
      t.name = block.name;
      t.entries = block.count;
      for (const auto i : entries_to_check(block.count, options.max_entries, rng)) {
        double& theta = block.values[i];
        const double saved = theta;
        theta = saved + options.step;
        const double plus = net.loss(batch, pool, mask);
        theta = saved - options.step;
        const double minus = net.loss(batch, pool, mask);
        theta = saved;
        const double numeric = (plus - minus) / (2.0 * options.step);
        const double a = block.grads[i];
        const double denom = std::max({std::abs(a), std::abs(numeric), floor});
        t.max_relative_error = std::max(t.max_relative_error, std::abs(a - numeric) / denom);
        t.max_abs_gradient = std::max(t.max_abs_gradient, std::abs(a));
        ++t.checked;
        if (options.progress) options.progress(++done, total);
      }
      report.tensors.push_back(t);
    }
  }
  return report;
}

}  // namespace

GradcheckReport gradient_check(const Architecture& arch, const GradcheckOptions& options) {
  BasicNetwork<double> net(arch, options.batch);
  net.initialize(options.seed);
  Rng rng(hash_key(options.seed, 0x62696173));  // "bias": non-zero biases so their use is checked
  for (std::int64_t l = 0; l < net.num_layers(); ++l)
    for (auto& v : net.bias(l)) v = 0.2 * rng.uniform() - 0.1;
  return check(net, options);
}

GradcheckReport gradient_check(const Network& network, const GradcheckOptions& options) {
  BasicNetwork<double> net(network.architecture(), options.batch);
  copy_parameters(net, network);
  return check(net, options);
}

}  // namespace backprop
