#pragma once
// The HTML report of a training run (docs/report.md): one self-contained file (inline SVG and
// CSS, images as data: URIs; no script, font or request to anywhere) with the loss, accuracy
// and learning-rate curves, the per-layer statistics over epochs, the health warnings, the
// evaluation on a data set (confusion matrix with per-class precision, recall and F1; for
// regression predicted against true values and the residuals), for image inputs the first
// layer's weights and the most confidently wrong images, and the run's provenance.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "backprop/dataset.hpp"
#include "backprop/model.hpp"
#include "backprop/thread_pool.hpp"
#include "backprop/trainer.hpp"

namespace backprop {

struct ReportInput {
  const ModelInfo* info = nullptr;  // required
  Network* network = nullptr;       // required
  std::vector<EpochMetrics> history;
  const Dataset* data = nullptr;  // evaluated when set (labelled)
  std::string data_role;          // "test set", "training data", ...
  std::string model_path;
  std::string metrics_path;
  std::string version;  // "backprop 0.1.0"
};

// A hash of a data set's contents (FNV-1a 64 over its shape, values and labels or targets),
// as 16 hex digits: the same data read from IDX or gzip-compressed IDX hashes the same.
std::string dataset_hash(const Dataset& data);

// The report as one HTML document.
std::string render_report(const ReportInput& input, ThreadPool& pool);

// render_report written atomically to `path`.
void write_report(const std::filesystem::path& path, const ReportInput& input, ThreadPool& pool);

// Reads a --metrics JSON Lines file (one EpochMetrics per line). Throws Error naming the line.
std::vector<EpochMetrics> read_metrics_file(const std::filesystem::path& path);

}  // namespace backprop
