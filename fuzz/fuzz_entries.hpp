#pragma once
// The bodies of the libFuzzer targets in fuzz/, shared with tests/fuzz_corpus_test.cpp so that
// the gtest suite replays the seed corpus and every saved regression through exactly the code
// the fuzzers run.
//
// Each entry feeds one input to a reader and
//   - swallows backprop::Error: refusing bad input with a message is the expected outcome;
//   - lets every other exception escape (std::bad_alloc, std::length_error, nlohmann's
//     exceptions, ...): the readers promise to throw only backprop::Error, so in the fuzzer
//     that is a crash and in the gtest a failure;
//   - checks what an accepted input produced against the invariants the headers document,
//     throwing InvariantViolation (not an Error, so it escapes too) when one is broken.
// Each returns whether the input was accepted by its main reader, so the gtest can insist that
// the valid_* seeds really are valid.
//
// Input formats (what a fuzz input means to each target) are documented at each entry and in
// docs/fuzzing.md; fuzz/make_corpus.py writes seeds in these formats.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "backprop/csv.hpp"
#include "backprop/dataset.hpp"
#include "backprop/error.hpp"
#include "backprop/idx.hpp"
#include "backprop/safetensors.hpp"
#include "core/file_bytes.hpp"
#include "data/csv_text.hpp"

#if __has_include("backprop/model.hpp")
#include <nlohmann/json.hpp>

#include "backprop/model.hpp"
#define BACKPROP_FUZZ_HAVE_MODEL 1
#else
#define BACKPROP_FUZZ_HAVE_MODEL 0
#endif

#if BACKPROP_FUZZ_HAVE_MODEL && __has_include("backprop/onnx.hpp")
#include "backprop/onnx.hpp"
#define BACKPROP_FUZZ_HAVE_ONNX 1
#else
#define BACKPROP_FUZZ_HAVE_ONNX 0
#endif

namespace backprop::fuzz {

using Bytes = std::span<const std::uint8_t>;

// A reader accepted an input but returned something its header says cannot happen.
class InvariantViolation : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

inline void require(bool ok, const char* condition, const char* target, int line) {
  if (!ok) {
    throw InvariantViolation(std::string(target) + ": invariant broken (fuzz_entries.hpp:" +
                             std::to_string(line) + "): " + condition);
  }
}

#define BACKPROP_FUZZ_REQUIRE(target, condition) \
  ::backprop::fuzz::require((condition), #condition, (target), __LINE__)

inline std::uint64_t u64(std::int64_t v) { return static_cast<std::uint64_t>(v); }

// Bit-for-bit equality, so that NaN payloads and -0 count too.
inline bool same_floats(std::span<const float> a, std::span<const float> b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size_bytes()) == 0);
}

inline bool all_finite(std::span<const float> values) {
  return std::all_of(values.begin(), values.end(), [](float v) { return std::isfinite(v); });
}

// ---- A file in memory ---------------------------------------------------------------------

// read_file_bytes/read_file_head take a path; an anonymous memory file lets them read fuzz bytes
// (through /proc/self/fd/N) without touching the disk. One per process, rewritten per input.
class MemoryFile {
 public:
  MemoryFile() : fd_(::memfd_create("backprop-fuzz", MFD_CLOEXEC)) {
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "memfd_create");
  }
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;
  ~MemoryFile() { ::close(fd_); }

  // Replaces the contents with `bytes` and returns a path that opens them.
  std::filesystem::path hold(Bytes bytes) {
    if (::ftruncate(fd_, 0) != 0)
      throw std::system_error(errno, std::generic_category(), "ftruncate");
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n =
          ::pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw std::system_error(errno, std::generic_category(), "pwrite");
      done += static_cast<std::size_t>(n);
    }
    return "/proc/self/fd/" + std::to_string(fd_);
  }

  static MemoryFile& instance() {
    static MemoryFile file;
    return file;
  }

 private:
  int fd_;
};

// The decompressed-size limit the fuzz targets use instead of the 4 GiB of the real readers:
// a 4 KB input can inflate to ~4 MB, so this keeps the "decompression bomb" refusal reachable.
inline constexpr std::uint64_t kFuzzInflateLimit = std::uint64_t{1} << 20;

// Bytes as read_file_bytes would return them for a file holding `raw` (gunzipped if it starts
// with the gzip magic). Checks that read_file_head agrees with it.
inline std::vector<std::uint8_t> file_contents(Bytes raw, const char* target) {
  const bool gzip = raw.size() >= 2 && raw[0] == 0x1f && raw[1] == 0x8b;
  if (!gzip) return {raw.begin(), raw.end()};
  const std::filesystem::path path = MemoryFile::instance().hold(raw);
  std::vector<std::uint8_t> whole = read_file_bytes(path, kFuzzInflateLimit);
  BACKPROP_FUZZ_REQUIRE(target, whole.size() <= kFuzzInflateLimit);
  // A head read of a valid stream is a prefix of the whole (it does not check the rest).
  constexpr std::size_t kHead = 16;
  const std::vector<std::uint8_t> head = read_file_head(path, kHead);
  BACKPROP_FUZZ_REQUIRE(target, head.size() == std::min(kHead, whole.size()));
  BACKPROP_FUZZ_REQUIRE(target, std::equal(head.begin(), head.end(), whole.begin()));
  return whole;
}

// ---- fuzz_idx -----------------------------------------------------------------------------
//
// Input: bytes 0-1 = little-endian uint16 `split`; the rest is the image file's bytes
// (the first min(split, rest) of them) followed by the label file's. Either part that starts
// with 1f 8b is gunzipped first through read_file_bytes (as read_idx does).

struct IdxInput {
  Bytes images;
  Bytes labels;
};

inline IdxInput split_idx_input(Bytes data) {
  if (data.size() < 2) return {};
  const std::size_t wanted = std::size_t{data[0]} | (std::size_t{data[1]} << 8);
  const Bytes rest = data.subspan(2);
  const std::size_t split = std::min(wanted, rest.size());
  return {rest.first(split), rest.subspan(split)};
}

inline void check_idx_dataset(const Dataset& d, Bytes images, Bytes labels) {
  constexpr const char* t = "fuzz_idx";
  BACKPROP_FUZZ_REQUIRE(t, looks_like_idx(images) && looks_like_idx(labels));
  BACKPROP_FUZZ_REQUIRE(t, d.rows >= 1 && d.features >= 1);
  BACKPROP_FUZZ_REQUIRE(t, d.task == Task::classification);
  BACKPROP_FUZZ_REQUIRE(t, d.values.empty() && d.targets.empty() && d.ids.empty());
  BACKPROP_FUZZ_REQUIRE(
      t, d.bytes.size() / u64(d.features) == u64(d.rows) && d.bytes.size() % u64(d.features) == 0);
  // The data are the file's last rows*features bytes, unchanged.
  BACKPROP_FUZZ_REQUIRE(t, std::equal(d.bytes.rbegin(), d.bytes.rend(), images.rbegin()));
  BACKPROP_FUZZ_REQUIRE(t, d.labels.size() == u64(d.rows));
  BACKPROP_FUZZ_REQUIRE(t, d.class_names.size() >= 1 && d.class_names.size() <= 256);
  for (std::size_t i = 0; i < d.labels.size(); ++i) {
    BACKPROP_FUZZ_REQUIRE(t, d.labels[i] == labels[labels.size() - d.labels.size() + i]);
    BACKPROP_FUZZ_REQUIRE(t, d.labels[i] >= 0 && u64(d.labels[i]) < d.class_names.size());
  }
}

inline bool idx_entry(Bytes data) {
  const IdxInput input = split_idx_input(data);
  (void)looks_like_idx(input.images);
  (void)looks_like_idx(input.labels);
  try {
    const std::vector<std::uint8_t> images = file_contents(input.images, "fuzz_idx");
    const std::vector<std::uint8_t> labels = file_contents(input.labels, "fuzz_idx");
    const Dataset d = parse_idx(images, labels, "images.idx", "labels.idx");
    check_idx_dataset(d, images, labels);
    return true;
  } catch (const Error&) {
    return false;
  }
}

// ---- fuzz_csv -----------------------------------------------------------------------------
//
// Input: byte 0 chooses the options, the rest is the CSV file: gunzipped first if it starts
// with 1f 8b, as read_csv_dataset/read_csv_for_model do through read_file_bytes.
//   bits 0-1  header: 0 automatic, 1 yes, 2 no, 3 automatic
//   bits 2-3  label: 0 "" (last column), 1 "0" (index), 2 "y" (name), 3 "2" (index)
//   bit 4     task forced (bit 5: 0 classification, 1 regression); else inferred
//   bit 6     id column "id"
//   bit 7     ignore column "note"
// The same text then goes to parse_csv_for_model with a fixed schema (header: features x1, x2,
// label y, classes 0/1/cat; without header (bits 0-1 = 2): c0, c1 -> c2, classes 0/1/2),
// regression if bit 5, require_label unless bit 4, the id column as above. And a file that
// trains must also read back for evaluation with the schema its own training produced.

struct CsvConfig {
  CsvOptions options;
  CsvSchema schema;
  bool require_label = true;
};

inline CsvConfig csv_config(std::uint8_t b) {
  CsvConfig c;
  switch (b & 3) {
    case 1:
      c.options.header = CsvOptions::Header::yes;
      break;
    case 2:
      c.options.header = CsvOptions::Header::no;
      break;
    default:
      c.options.header = CsvOptions::Header::automatic;
      break;
  }
  constexpr const char* kLabels[] = {"", "0", "y", "2"};
  c.options.label = kLabels[(b >> 2) & 3];
  const bool regression = (b & 0x20) != 0;
  if ((b & 0x10) != 0) c.options.task = regression ? Task::regression : Task::classification;
  if ((b & 0x40) != 0) c.options.id_column = "id";
  if ((b & 0x80) != 0) c.options.ignore = {"note"};
  // Every bit of the first byte is taken; the missing-cell policy follows from it too, so that
  // each corpus file keeps its meaning.
  constexpr MissingPolicy kPolicies[] = {MissingPolicy::impute, MissingPolicy::drop,
                                         MissingPolicy::error};
  c.options.encoding.missing = kPolicies[b % 3];

  CsvSchema& s = c.schema;
  if (c.options.header == CsvOptions::Header::no) {
    s = CsvSchema{{"c0", "c1"}, "c2", Task::classification, {"0", "1", "2"}, false, 3, {}, {},
                  ',',          {}};
  } else {
    s = CsvSchema{{"x1", "x2"}, "y", Task::classification, {"0", "1", "cat"}, true, 0, {}, {},
                  ',',          {}};
  }
  if (regression) {
    s.task = Task::regression;
    s.class_names.clear();
  }
  // Decimal commas forced on a quarter of the first bytes (detected on the others), again a
  // function of bits already taken.
  if ((b / 3) % 4 == 3) c.options.decimal = s.decimal = ',';
  c.require_label = (b & 0x10) == 0;
  return c;
}

// What every CSV-read Dataset must satisfy.
inline void check_csv_dataset(const Dataset& d, bool has_label, bool has_ids) {
  constexpr const char* t = "fuzz_csv";
  BACKPROP_FUZZ_REQUIRE(t, d.rows >= 1 && d.features >= 1);
  BACKPROP_FUZZ_REQUIRE(t, d.bytes.empty());
  BACKPROP_FUZZ_REQUIRE(t, d.values.size() / u64(d.features) == u64(d.rows) &&
                               d.values.size() % u64(d.features) == 0);
  BACKPROP_FUZZ_REQUIRE(t, all_finite(d.values));
  BACKPROP_FUZZ_REQUIRE(t, d.feature_names.size() == u64(d.features));
  BACKPROP_FUZZ_REQUIRE(t, d.ids.size() == (has_ids ? u64(d.rows) : 0));
  if (!has_label) {
    BACKPROP_FUZZ_REQUIRE(t, d.labels.empty() && d.targets.empty());
    return;
  }
  if (d.task == Task::regression) {
    BACKPROP_FUZZ_REQUIRE(t, d.targets.size() == u64(d.rows) && d.labels.empty());
    BACKPROP_FUZZ_REQUIRE(t, all_finite(d.targets));
  } else {
    BACKPROP_FUZZ_REQUIRE(t, d.labels.size() == u64(d.rows) && d.targets.empty());
    BACKPROP_FUZZ_REQUIRE(t, !d.class_names.empty());
    for (const std::int32_t label : d.labels) {
      BACKPROP_FUZZ_REQUIRE(t, label >= 0 && u64(label) < d.class_names.size());
    }
  }
}

// The outcome of reading a CSV text one way: the data set, or the message it was refused with.
struct CsvOutcome {
  std::optional<Dataset> data;
  std::string error;
};

template <class Read>
CsvOutcome csv_outcome(Read&& read) {
  try {
    return {read(), {}};
  } catch (const Error& e) {
    return {std::nullopt, e.what()};
  }
}

inline bool same_csv_outcome(const CsvOutcome& a, const CsvOutcome& b) {
  if (a.error != b.error || a.data.has_value() != b.data.has_value()) return false;
  if (!a.data) return true;
  const Dataset& x = *a.data;
  const Dataset& y = *b.data;
  return x.rows == y.rows && x.features == y.features && same_floats(x.values, y.values) &&
         x.labels == y.labels && same_floats(x.targets, y.targets) && x.ids == y.ids &&
         x.feature_names == y.feature_names && x.class_names == y.class_names &&
         x.label_name == y.label_name && x.notes == y.notes && x.task == y.task;
}

// The same text as a file read in small windows (a record crosses a window's end every few
// bytes) must give what the text in memory gives: the same data set or the same message.
inline void check_csv_in_windows(const std::vector<std::uint8_t>& body, std::string_view text,
                                 const CsvConfig& config) {
  constexpr const char* t = "fuzz_csv";
  if (body.size() >= 2 && body[0] == 0x1f && body[1] == 0x8b) return;  // a file would gunzip it
  const CsvText file(MemoryFile::instance().hold(body), "train.csv", 1 + body.size() % 13);
  BACKPROP_FUZZ_REQUIRE(
      t, same_csv_outcome(
             csv_outcome([&] { return parse_csv_dataset(text, "train.csv", config.options); }),
             csv_outcome([&] { return csv_dataset(file, config.options, nullptr); })));
  const std::string& id = config.options.id_column;
  BACKPROP_FUZZ_REQUIRE(t, same_csv_outcome(csv_outcome([&] {
                                              return parse_csv_for_model(text, "train.csv",
                                                                         config.schema,
                                                                         config.require_label, id);
                                            }),
                                            csv_outcome([&] {
                                              return csv_for_model(file, config.schema,
                                                                   config.require_label, id, 0, 0);
                                            })));
}

inline bool csv_entry(Bytes data) {
  constexpr const char* t = "fuzz_csv";
  if (data.empty()) return false;
  const CsvConfig config = csv_config(data[0]);
  std::vector<std::uint8_t> body;
  try {
    body = file_contents(data.subspan(1), t);
  } catch (const Error&) {
    return false;
  }
  const std::string_view text(reinterpret_cast<const char*>(body.data()), body.size());
  check_csv_in_windows(body, text, config);

  bool accepted = false;
  try {
    CsvReport report;
    const Dataset d = parse_csv_dataset(text, "train.csv", config.options, &report);
    accepted = true;
    check_csv_dataset(d, true, !config.options.id_column.empty());
    const CsvSchema& s = report.schema;
    BACKPROP_FUZZ_REQUIRE(t, s.feature_names == d.feature_names && s.label_name == d.label_name);
    BACKPROP_FUZZ_REQUIRE(t, s.task == d.task && s.class_names == d.class_names);
    BACKPROP_FUZZ_REQUIRE(t, s.columns >= static_cast<std::int64_t>(s.encoding.columns.size()) + 1);
    BACKPROP_FUZZ_REQUIRE(t, s.encoding.width() == d.features);
    BACKPROP_FUZZ_REQUIRE(
        t, std::set<std::string>(d.class_names.begin(), d.class_names.end()).size() ==
               d.class_names.size());
    if (config.options.task) BACKPROP_FUZZ_REQUIRE(t, d.task == *config.options.task);

    // The training file itself, read for evaluation with the schema training remembered, must
    // give the same rows.
    try {
      const Dataset e = parse_csv_for_model(text, "train.csv", s, true, config.options.id_column);
      check_csv_dataset(e, true, !config.options.id_column.empty());
      BACKPROP_FUZZ_REQUIRE(t, e.rows == d.rows && e.features == d.features);
      BACKPROP_FUZZ_REQUIRE(t, same_floats(e.values, d.values));
      BACKPROP_FUZZ_REQUIRE(t, e.labels == d.labels && same_floats(e.targets, d.targets));
      BACKPROP_FUZZ_REQUIRE(t, e.ids == d.ids);
    } catch (const Error& error) {
      throw InvariantViolation(std::string("fuzz_csv: a file that parse_csv_dataset accepted is "
                                           "refused by parse_csv_for_model with its own schema: ") +
                               error.what());
    }
  } catch (const Error&) {
  }

  try {
    const std::string& id = config.options.id_column;
    const Dataset e =
        parse_csv_for_model(text, "eval.csv", config.schema, config.require_label, id);
    check_csv_dataset(e, config.require_label, !id.empty());
    BACKPROP_FUZZ_REQUIRE(t, e.feature_names == config.schema.feature_names);
    BACKPROP_FUZZ_REQUIRE(t, e.class_names == config.schema.class_names);
  } catch (const Error&) {
  }
  return accepted;
}

// ---- fuzz_safetensors ---------------------------------------------------------------------
//
// Input: either the file's bytes, or, when the input starts with '{', the header JSON, a NUL
// byte, then the data buffer: the entry prepends the 8-byte header length itself. A header can
// never hold a NUL (the reader refuses one), so nothing is lost; what is gained is that the
// fuzzer can insert and delete bytes in the JSON without breaking the length prefix every time.
// Raw inputs still reach every header-length check. Parsed with the default limits and with
// small ones; an accepted file must re-encode and re-parse to the same tensors.

inline std::vector<std::uint8_t> assemble_safetensors(Bytes data) {
  if (data.empty() || data[0] != '{') return {data.begin(), data.end()};
  const auto nul = std::find(data.begin(), data.end(), std::uint8_t{0});
  const auto header_size = static_cast<std::uint64_t>(nul - data.begin());
  std::vector<std::uint8_t> file;
  file.reserve(data.size() + 8);
  for (std::size_t i = 0; i < 8; ++i) {
    file.push_back(static_cast<std::uint8_t>((header_size >> (8 * i)) & 0xFF));
  }
  file.insert(file.end(), data.begin(), nul);
  if (nul != data.end()) file.insert(file.end(), nul + 1, data.end());
  return file;
}

inline SafetensorsLimits small_safetensors_limits() {
  SafetensorsLimits limits;
  limits.max_header_bytes = 256;
  limits.max_tensor_elements = 64;
  limits.max_tensors = 3;
  limits.max_file_bytes = 1024;
  return limits;
}

inline void check_safetensors(const SafetensorsFile& f, Bytes bytes,
                              const SafetensorsLimits& limits) {
  constexpr const char* t = "fuzz_safetensors";
  BACKPROP_FUZZ_REQUIRE(t, bytes.size() >= 8);
  std::uint64_t header = 0;
  for (std::size_t i = 0; i < 8; ++i) header |= std::uint64_t{bytes[i]} << (8 * i);
  BACKPROP_FUZZ_REQUIRE(t, header <= limits.max_header_bytes && header <= bytes.size() - 8);
  BACKPROP_FUZZ_REQUIRE(t, f.tensors.size() <= limits.max_tensors);
  std::set<std::string> names;
  std::uint64_t data_bytes = 0;
  for (const NamedTensor& tensor : f.tensors) {
    BACKPROP_FUZZ_REQUIRE(t, tensor.name != "__metadata__");
    BACKPROP_FUZZ_REQUIRE(t, names.insert(tensor.name).second);
    // The product of the dimensions: 0 if any is 0, else checked against the limit as it grows.
    std::uint64_t elements = 1;
    bool over_limit = false;
    for (const std::int64_t d : tensor.shape) {
      BACKPROP_FUZZ_REQUIRE(t, d >= 0);
      if (d == 0) {
        elements = 0;
        over_limit = false;
        break;
      }
      if (over_limit || elements > limits.max_tensor_elements / u64(d)) {
        over_limit = true;
      } else {
        elements *= u64(d);
      }
    }
    BACKPROP_FUZZ_REQUIRE(t, !over_limit && elements <= limits.max_tensor_elements);
    BACKPROP_FUZZ_REQUIRE(t, tensor.data.size() == elements);
    data_bytes += tensor.data.size() * sizeof(float);
  }
  // The tensors tile the data buffer exactly.
  BACKPROP_FUZZ_REQUIRE(t, data_bytes == bytes.size() - 8 - header);
}

// Encoding what was read and reading it again gives the same file contents.
inline void check_safetensors_round_trip(const SafetensorsFile& f) {
  constexpr const char* t = "fuzz_safetensors";
  std::vector<TensorRef> refs;
  for (const NamedTensor& tensor : f.tensors)
    refs.push_back({tensor.name, tensor.shape, tensor.data});
  std::string encoded;
  try {
    encoded = encode_safetensors(refs, f.metadata);
  } catch (const Error& error) {
    throw InvariantViolation(std::string("fuzz_safetensors: parse_safetensors accepted a file that "
                                         "encode_safetensors cannot write back: ") +
                             error.what());
  }
  const Bytes bytes(reinterpret_cast<const std::uint8_t*>(encoded.data()), encoded.size());
  SafetensorsFile again;
  try {
    again = parse_safetensors(bytes, "again.safetensors");
  } catch (const Error& error) {
    throw InvariantViolation(
        std::string("fuzz_safetensors: encode_safetensors wrote a file that parse_safetensors "
                    "refuses: ") +
        error.what());
  }
  BACKPROP_FUZZ_REQUIRE(t, again.metadata == f.metadata);
  BACKPROP_FUZZ_REQUIRE(t, again.tensors.size() == f.tensors.size());
  for (std::size_t i = 0; i < f.tensors.size(); ++i) {
    BACKPROP_FUZZ_REQUIRE(t, again.tensors[i].name == f.tensors[i].name);
    BACKPROP_FUZZ_REQUIRE(t, again.tensors[i].shape == f.tensors[i].shape);
    BACKPROP_FUZZ_REQUIRE(t, same_floats(again.tensors[i].data, f.tensors[i].data));
  }
}

inline bool safetensors_entry(Bytes input) {
  const std::vector<std::uint8_t> file = assemble_safetensors(input);
  const Bytes data(file);
  bool accepted = false;
  try {
    const SafetensorsLimits limits;
    const SafetensorsFile f = parse_safetensors(data, "model.safetensors", limits);
    accepted = true;
    check_safetensors(f, data, limits);
    check_safetensors_round_trip(f);
  } catch (const Error&) {
  }
  try {
    const SafetensorsLimits limits = small_safetensors_limits();
    const SafetensorsFile f = parse_safetensors(data, "small.safetensors", limits);
    check_safetensors(f, data, limits);
  } catch (const Error&) {
  }
  return accepted;
}

// ---- fuzz_model ---------------------------------------------------------------------------
//
// Input: the model file (a safetensors file with backprop's metadata), raw or as header JSON,
// NUL, data, exactly as for fuzz_safetensors.

inline constexpr bool kHaveModel = BACKPROP_FUZZ_HAVE_MODEL != 0;

#if BACKPROP_FUZZ_HAVE_MODEL
inline constexpr std::int64_t kFuzzMaxBatch = 4;

inline void check_model(const Model& m) {
  constexpr const char* t = "fuzz_model";
  const ModelInfo& info = m.info;
  const Architecture& a = info.architecture;
  BACKPROP_FUZZ_REQUIRE(t, m.network != nullptr);
  BACKPROP_FUZZ_REQUIRE(t, a.widths.size() >= 2);
  BACKPROP_FUZZ_REQUIRE(t, a.activations.size() == a.widths.size() - 2);
  BACKPROP_FUZZ_REQUIRE(t, m.network->num_layers() == a.num_layers());
  for (std::int64_t l = 0; l < a.num_layers(); ++l) {
    const auto w = m.network->weight(l);
    const auto layer = static_cast<std::size_t>(l);
    BACKPROP_FUZZ_REQUIRE(t, w.rows == a.widths[layer] && w.cols == a.widths[layer + 1]);
    BACKPROP_FUZZ_REQUIRE(t, m.network->bias(l).size() == u64(a.widths[layer + 1]));
  }
  BACKPROP_FUZZ_REQUIRE(t, info.preprocessing.offset.size() == u64(a.inputs()));
  BACKPROP_FUZZ_REQUIRE(t, info.preprocessing.scale.size() == u64(a.inputs()));
  if (info.task == Task::classification) {
    BACKPROP_FUZZ_REQUIRE(t, info.class_names.size() == u64(a.outputs()));
  }
  BACKPROP_FUZZ_REQUIRE(t,
                        info.feature_names.empty() || info.feature_names.size() == u64(a.inputs()));
}

// Numbers the loader accepted from the metadata JSON were whole numbers there: "columns": 2.5
// must be refused, not truncated (and 1e300 is undefined behaviour to convert).
inline void check_model_metadata(const Model& m, Bytes file) {
  constexpr const char* t = "fuzz_model";
  const SafetensorsFile f = parse_safetensors(file, "model.safetensors");
  const auto input = f.metadata.find("input");
  if (input == f.metadata.end()) return;
  const nlohmann::json j = nlohmann::json::parse(input->second);
  const auto columns = j.find("columns");
  if (columns == j.end()) return;
  if (!columns->is_number_integer()) {
    throw InvariantViolation(std::string(t) + ": parse_model accepted metadata \"input\" with " +
                             "\"columns\": " + columns->dump() + ", which is not a whole number " +
                             "(loaded as " + std::to_string(m.info.csv_columns) + ")");
  }
  BACKPROP_FUZZ_REQUIRE(t, columns->get<std::int64_t>() == m.info.csv_columns);
}

// Saving a loaded model and loading it again gives the same model.
inline void check_model_round_trip(const Model& m) {
  constexpr const char* t = "fuzz_model";
  std::string encoded;
  try {
    encoded = encode_safetensors(model_tensors(*m.network, m.info), model_metadata(m.info));
  } catch (const Error& error) {
    throw InvariantViolation(
        std::string("fuzz_model: a model parse_model accepted cannot be saved: ") + error.what());
  }
  const Bytes bytes(reinterpret_cast<const std::uint8_t*>(encoded.data()), encoded.size());
  Model again;
  try {
    again = parse_model(bytes, "again.model", kFuzzMaxBatch);
  } catch (const Error& error) {
    throw InvariantViolation(
        std::string("fuzz_model: a model parse_model accepted does not load again once saved: ") +
        error.what());
  }
  const ModelInfo& a = m.info;
  const ModelInfo& b = again.info;
  BACKPROP_FUZZ_REQUIRE(t, a.architecture.widths == b.architecture.widths);
  BACKPROP_FUZZ_REQUIRE(t, a.architecture.activations == b.architecture.activations);
  BACKPROP_FUZZ_REQUIRE(t, a.architecture.loss == b.architecture.loss);
  BACKPROP_FUZZ_REQUIRE(t, a.architecture.dropout == b.architecture.dropout);
  BACKPROP_FUZZ_REQUIRE(t, a.architecture.leaky_slope == b.architecture.leaky_slope);
  BACKPROP_FUZZ_REQUIRE(t, a.preprocessing.kind == b.preprocessing.kind);
  BACKPROP_FUZZ_REQUIRE(t, same_floats(a.preprocessing.offset, b.preprocessing.offset));
  BACKPROP_FUZZ_REQUIRE(t, same_floats(a.preprocessing.scale, b.preprocessing.scale));
  if (a.task == Task::regression) {
    BACKPROP_FUZZ_REQUIRE(
        t, same_floats({&a.preprocessing.target_offset, 1}, {&b.preprocessing.target_offset, 1}));
    BACKPROP_FUZZ_REQUIRE(
        t, same_floats({&a.preprocessing.target_scale, 1}, {&b.preprocessing.target_scale, 1}));
  }
  BACKPROP_FUZZ_REQUIRE(t, a.task == b.task);
  // Class names are saved for classification only (a regression file's "classes" is unused).
  if (a.task == Task::classification) BACKPROP_FUZZ_REQUIRE(t, a.class_names == b.class_names);
  BACKPROP_FUZZ_REQUIRE(t, a.feature_names == b.feature_names && a.label_name == b.label_name);
  BACKPROP_FUZZ_REQUIRE(t, a.input_format == b.input_format && a.csv_header == b.csv_header);
  BACKPROP_FUZZ_REQUIRE(t, a.csv_columns == b.csv_columns && a.training == b.training);
  for (std::int64_t l = 0; l < m.network->num_layers(); ++l) {
    const auto w1 = m.network->weight(l);
    const auto w2 = again.network->weight(l);
    BACKPROP_FUZZ_REQUIRE(t, same_floats({w1.data, static_cast<std::size_t>(w1.size())},
                                         {w2.data, static_cast<std::size_t>(w2.size())}));
    BACKPROP_FUZZ_REQUIRE(t, same_floats(m.network->bias(l), again.network->bias(l)));
  }
}

inline bool model_entry(Bytes input) {
  const std::vector<std::uint8_t> file = assemble_safetensors(input);
  try {
    const Model m = parse_model(file, "model.safetensors", kFuzzMaxBatch);
    check_model(m);
    check_model_metadata(m, file);
    check_model_round_trip(m);
    return true;
  } catch (const Error&) {
    return false;
  }
}
#else
inline bool model_entry(Bytes) { return false; }
#endif

// ---- fuzz_onnx ----------------------------------------------------------------------------
//
// Input: the ONNX file's bytes (a ModelProto). An accepted file must give a model that passes
// check_model, and exporting that model and importing the export must give the same widths,
// activations, preprocessing and parameters, bit for bit (the exporter writes only what the
// importer reads back exactly).

#if BACKPROP_FUZZ_HAVE_ONNX
inline void check_onnx_round_trip(const Model& m) {
  constexpr const char* t = "fuzz_onnx";
  std::string encoded;
  try {
    encoded = encode_onnx(*m.network, m.info);
  } catch (const Error& error) {
    throw InvariantViolation(std::string("fuzz_onnx: an imported model cannot be exported: ") +
                             error.what());
  }
  const Bytes bytes(reinterpret_cast<const std::uint8_t*>(encoded.data()), encoded.size());
  Model again;
  try {
    again = parse_onnx(bytes, "again.onnx", kFuzzMaxBatch);
  } catch (const Error& error) {
    throw InvariantViolation(
        std::string("fuzz_onnx: encode_onnx wrote a file that parse_onnx refuses: ") +
        error.what());
  }
  const Architecture& a = m.info.architecture;
  const Architecture& b = again.info.architecture;
  BACKPROP_FUZZ_REQUIRE(t, a.widths == b.widths && a.activations == b.activations);
  BACKPROP_FUZZ_REQUIRE(t, a.loss == b.loss && m.info.task == again.info.task);
  BACKPROP_FUZZ_REQUIRE(t, m.info.class_names == again.info.class_names);
  BACKPROP_FUZZ_REQUIRE(t, m.info.feature_names == again.info.feature_names);
  const Preprocessing& p = m.info.preprocessing;
  const Preprocessing& q = again.info.preprocessing;
  BACKPROP_FUZZ_REQUIRE(t, same_floats(p.offset, q.offset) && same_floats(p.scale, q.scale));
  if (m.info.task == Task::regression) {
    BACKPROP_FUZZ_REQUIRE(t, same_floats({&p.target_offset, 1}, {&q.target_offset, 1}));
    BACKPROP_FUZZ_REQUIRE(t, same_floats({&p.target_scale, 1}, {&q.target_scale, 1}));
  }
  BACKPROP_FUZZ_REQUIRE(t, same_floats(m.network->parameters(), again.network->parameters()));
}

inline bool onnx_entry(Bytes input) {
  try {
    const Model m = parse_onnx(input, "model.onnx", kFuzzMaxBatch);
    check_model(m);
    BACKPROP_FUZZ_REQUIRE("fuzz_onnx", m.info.preprocessing.offset.size() ==
                                           static_cast<std::size_t>(m.info.architecture.inputs()));
    check_model_round_trip(m);  // what `backprop import` saves loads back
    check_onnx_round_trip(m);
    return true;
  } catch (const Error&) {
    return false;
  }
}
#else
inline bool onnx_entry(Bytes) { return false; }
#endif

}  // namespace backprop::fuzz
