#include "backprop/safetensors.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "backprop/error.hpp"
#include "core/atomic_file.hpp"
#include "core/file_bytes.hpp"

namespace backprop {
namespace {

using json = nlohmann::json;

// The file stores F32 as little-endian IEEE 754. On such a host the file's bytes are the floats'
// own bytes, so memcpy is the whole conversion; a big-endian port needs a byte swap here.
static_assert(std::endian::native == std::endian::little,
              "safetensors I/O copies floats as bytes; add a byte swap for big-endian hosts");
static_assert(std::numeric_limits<float>::is_iec559 && sizeof(float) == 4);

constexpr std::size_t kLengthBytes = 8;
constexpr std::uint64_t kF32Bytes = 4;
constexpr std::string_view kMetadataKey = "__metadata__";

// A valid header nests three levels (header, entry, shape). The bound only stops hostile
// nesting early; it is loose so that a malformed entry still gets its specific message.
constexpr int kMaxDepth = 16;

// Long enough for any real name, short enough that a hostile 50 MB name cannot flood a message.
constexpr std::size_t kMaxQuoted = 120;
// The JSON parser's messages quote the token they stopped at, which can be just as long.
constexpr std::size_t kMaxParserMessage = 400;

// Every dtype the safetensors spec defines: these get "has dtype F16; backprop reads F32", any
// other string is called unknown.
constexpr std::array<std::string_view, 20> kKnownDtypes = {
    "BOOL", "U8",  "I8",  "F8_E5M2", "F8_E4M3", "F8_E8M0", "I16", "U16", "F16",     "BF16",
    "I32",  "U32", "F32", "F64",     "I64",     "U64",     "C64", "F4",  "F6_E2M3", "F6_E3M2"};

// Names and JSON come from the file: control characters (a terminal escape sequence, a newline
// that would split the CLI's one-line message) are shown as \xNN, and long text is cut.
// `ascii_only` also escapes bytes >= 0x80, for text that need not be valid UTF-8.
std::string printable(std::string_view text, std::size_t max_bytes, bool ascii_only) {
  bool cut = false;
  if (text.size() > max_bytes) {
    std::size_t end = max_bytes;
    // Do not split a UTF-8 sequence: back up over continuation bytes (10xxxxxx).
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    text = text.substr(0, end);
    cut = true;
  }
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F || (ascii_only && byte >= 0x80)) {
      out += fmt::format("\\x{:02x}", byte);
    } else {
      out += c;
    }
  }
  if (cut) out += "...";
  return out;
}

// For names, dtypes and re-serialised JSON, which the parser has already checked to be UTF-8.
std::string printable(std::string_view text) { return printable(text, kMaxQuoted, false); }

std::string quote_name(std::string_view name) { return "'" + printable(name) + "'"; }

std::string shape_string(std::span<const std::int64_t> shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

// Checked product of dimensions; nullopt if it exceeds `limit` (or 64 bits) along the way.
std::optional<std::uint64_t> element_count(std::span<const std::uint64_t> dims,
                                           std::uint64_t limit) {
  std::uint64_t count = 1;
  for (const std::uint64_t d : dims) {
    if (d != 0 && count > limit / d) {
      // count * d > limit, unless a later zero dimension makes the product 0 after all.
      if (std::find(dims.begin(), dims.end(), std::uint64_t{0}) != dims.end()) return 0;
      return std::nullopt;
    }
    count *= d;
  }
  return count;
}

class Reader {
 public:
  Reader(std::span<const std::uint8_t> bytes, std::string_view source,
         const SafetensorsLimits& limits)
      : bytes_(bytes), source_(source), limits_(limits) {}

  SafetensorsFile parse() {
    if (bytes_.size() < kLengthBytes) {
      fail(
          fmt::format("the file is {} bytes; a safetensors file starts with an 8-byte header "
                      "length",
                      bytes_.size()));
    }
    std::uint64_t header_bytes = 0;
    for (std::size_t i = 0; i < kLengthBytes; ++i) {
      header_bytes |= std::uint64_t{bytes_[i]} << (8 * i);
    }
    const std::uint64_t after_length = bytes_.size() - kLengthBytes;
    if (header_bytes > after_length) {
      fail(fmt::format("the header length is {} bytes, but only {} bytes follow it", header_bytes,
                       after_length));
    }
    if (header_bytes > limits_.max_header_bytes) {
      fail(fmt::format("the header length is {} bytes, more than the limit of {} bytes",
                       header_bytes, limits_.max_header_bytes));
    }
    const auto header_size = static_cast<std::size_t>(header_bytes);
    const json header = parse_header(bytes_.subspan(kLengthBytes, header_size));
    data_ = bytes_.subspan(kLengthBytes + header_size);

    SafetensorsFile file;
    file.source = std::string(source_);
    std::vector<Entry> entries;
    for (const auto& [name, value] : header.items()) {
      if (name == kMetadataKey) {
        file.metadata = parse_metadata(value);
      } else {
        entries.push_back(parse_entry(name, value));
      }
    }
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
      return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
    });
    check_layout(entries);

    // Only now, with every size checked against the buffer, is memory spent on the data. The
    // tensors tile the buffer, so together they take exactly the bytes the file already has.
    file.tensors.reserve(entries.size());
    for (Entry& e : entries) {
      NamedTensor& t = file.tensors.emplace_back();
      t.name = std::move(e.name);
      t.shape = std::move(e.shape);
      t.data.resize(static_cast<std::size_t>(e.elements));
      if (e.end > e.begin) {
        std::memcpy(t.data.data(), data_.data() + e.begin,
                    static_cast<std::size_t>(e.end - e.begin));
      }
    }
    return file;
  }

 private:
  struct Entry {
    std::string name;
    std::vector<std::int64_t> shape;
    std::uint64_t elements = 0;
    std::uint64_t begin = 0;
    std::uint64_t end = 0;
  };

  [[noreturn]] void fail(std::string_view what) const {
    throw Error(fmt::format("{}: {}", source_, what));
  }
  [[noreturn]] void fail_tensor(std::string_view name, std::string_view what) const {
    fail(fmt::format("tensor {}: {}", quote_name(name), what));
  }

  // nlohmann keeps only the last of two equal keys, which would hide a second tensor of the same
  // name; the callback sees every key as it is read and refuses repeats.
  json parse_header(std::span<const std::uint8_t> text) const {
    if (text.empty() || text[0] != '{') {
      fail("the header must be a JSON object, starting with '{'");
    }
    // nlohmann stops at a NUL byte as if the input ended there, which would accept anything
    // after it. JSON has no place for a raw NUL, so any NUL makes the header invalid.
    if (const auto nul = std::find(text.begin(), text.end(), std::uint8_t{0}); nul != text.end()) {
      fail(fmt::format("the header is not valid UTF-8 JSON: it has a NUL byte at offset {}",
                       nul - text.begin()));
    }
    std::vector<std::set<std::string>> open_objects;  // keys seen so far, innermost last
    std::string entry;                                // the top-level key being read
    std::uint64_t tensors = 0;
    const auto on_event = [&](int depth, json::parse_event_t event, json& parsed) {
      switch (event) {
        case json::parse_event_t::object_start:
        case json::parse_event_t::array_start:
          if (depth >= kMaxDepth) {
            fail(fmt::format("the header nests deeper than {} levels", kMaxDepth));
          }
          if (event == json::parse_event_t::object_start) open_objects.emplace_back();
          break;
        case json::parse_event_t::object_end:
          open_objects.pop_back();
          break;
        case json::parse_event_t::key: {
          const auto& key = parsed.get_ref<const std::string&>();
          if (depth == 1) {
            entry = key;
            if (key != kMetadataKey && ++tensors > limits_.max_tensors) {
              fail(fmt::format("the header lists more than the limit of {} tensors",
                               limits_.max_tensors));
            }
          }
          if (!open_objects.back().insert(key).second) {
            if (depth == 1 && key == kMetadataKey) {
              fail("the header has two \"__metadata__\" objects");
            }
            if (depth == 1) {
              fail(fmt::format("the header has two tensors named {}", quote_name(key)));
            }
            if (entry == kMetadataKey) {
              fail(fmt::format("\"__metadata__\" has the key {} twice", quote_name(key)));
            }
            fail_tensor(entry, fmt::format("the entry has the key {} twice", quote_name(key)));
          }
          break;
        }
        default:
          break;
      }
      return true;
    };
    try {
      return json::parse(text.begin(), text.end(), on_event);
    } catch (const json::exception& e) {
      // "[json.exception.parse_error.101] parse error at line 1, ..." without the bracketed id;
      // the rest quotes the offending bytes, which need not be UTF-8.
      std::string_view what = e.what();
      if (const std::size_t id_end = what.find("] "); id_end != std::string_view::npos) {
        what.remove_prefix(id_end + 2);
      }
      fail(fmt::format("the header is not valid UTF-8 JSON: {}",
                       printable(what, kMaxParserMessage, true)));
    }
  }

  std::map<std::string, std::string> parse_metadata(const json& value) const {
    if (!value.is_object()) {
      fail(fmt::format("\"__metadata__\" must be an object of strings, not {}", value.type_name()));
    }
    std::map<std::string, std::string> metadata;
    for (const auto& [key, item] : value.items()) {
      if (!item.is_string()) {
        fail(fmt::format("\"__metadata__\" value {} must be a string, not {}", quote_name(key),
                         item.type_name()));
      }
      metadata.emplace(key, item.get<std::string>());
    }
    return metadata;
  }

  // A JSON number that is a non-negative integer ("-0" included), else nullopt.
  static std::optional<std::uint64_t> as_count(const json& v) {
    if (v.is_number_unsigned()) return v.get<std::uint64_t>();
    if (v.is_number_integer() && v.get<std::int64_t>() == 0) return 0;
    return std::nullopt;
  }

  const json& field(const std::string& name, const json& entry, const char* key) const {
    const auto it = entry.find(key);
    if (it == entry.end()) fail_tensor(name, fmt::format("the entry has no \"{}\"", key));
    return *it;
  }

  Entry parse_entry(const std::string& name, const json& value) const {
    // The writer refuses empty names, so the reader does too: every file read can be written.
    if (name.empty()) fail("a tensor has an empty name");
    if (!value.is_object()) {
      fail_tensor(name, fmt::format("the entry must be an object with \"dtype\", \"shape\" and "
                                    "\"data_offsets\", not {}",
                                    value.type_name()));
    }
    const json& dtype = field(name, value, "dtype");
    const json& shape = field(name, value, "shape");
    const json& offsets = field(name, value, "data_offsets");

    // The dtype comes first: for an F16 tensor, "has dtype F16" is the useful message, not the
    // byte-length mismatch that reading it as F32 would produce.
    if (!dtype.is_string()) {
      fail_tensor(name, fmt::format("\"dtype\" must be a string, not {}", dtype.type_name()));
    }
    const auto& dtype_name = dtype.get_ref<const std::string&>();
    if (dtype_name != "F32") {
      const bool known =
          std::find(kKnownDtypes.begin(), kKnownDtypes.end(), dtype_name) != kKnownDtypes.end();
      fail(fmt::format("tensor {} has {}dtype {}; backprop reads F32", quote_name(name),
                       known ? "" : "unknown ", printable(dtype_name)));
    }

    Entry e;
    e.name = name;
    if (!shape.is_array()) {
      fail_tensor(name,
                  fmt::format("\"shape\" must be an array of integers, not {}", shape.type_name()));
    }
    std::vector<std::uint64_t> dims;
    dims.reserve(shape.size());
    for (const json& d : shape) {
      const std::optional<std::uint64_t> dim = as_count(d);
      if (!dim) {
        fail_tensor(name, fmt::format("\"shape\" {} must hold non-negative integers; {} is not one",
                                      printable(shape.dump()), printable(d.dump())));
      }
      // NamedTensor keeps dimensions as int64, like every other shape in backprop.
      if (*dim > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        fail_tensor(name, fmt::format("\"shape\" {} has the dimension {}, larger than 2^63 - 1",
                                      printable(shape.dump()), *dim));
      }
      dims.push_back(*dim);
      e.shape.push_back(static_cast<std::int64_t>(*dim));
    }
    const std::optional<std::uint64_t> elements = element_count(dims, limits_.max_tensor_elements);
    if (!elements) {
      fail_tensor(name, fmt::format("shape {} has more than the limit of {} elements",
                                    shape_string(e.shape), limits_.max_tensor_elements));
    }
    e.elements = *elements;

    std::optional<std::uint64_t> begin;
    std::optional<std::uint64_t> end;
    if (offsets.is_array() && offsets.size() == 2) {
      begin = as_count(offsets[0]);
      end = as_count(offsets[1]);
    }
    if (!begin || !end) {
      fail_tensor(name, fmt::format("\"data_offsets\" must be [begin, end], two non-negative "
                                    "integers, not {}",
                                    printable(offsets.dump())));
    }
    e.begin = *begin;
    e.end = *end;
    if (e.begin > e.end) {
      fail_tensor(name, fmt::format("data_offsets [{}, {}] begin after they end", e.begin, e.end));
    }
    if (e.end > data_.size()) {
      fail_tensor(name, fmt::format("data_offsets [{}, {}] go past the end of the {}-byte data "
                                    "buffer",
                                    e.begin, e.end, data_.size()));
    }
    // Dividing first: elements * 4 could wrap around if the element limit was raised.
    const std::uint64_t span = e.end - e.begin;
    if (e.elements > span / kF32Bytes || e.elements * kF32Bytes != span) {
      fail_tensor(name, fmt::format("shape {} has {} elements of 4 bytes (F32), but data_offsets "
                                    "[{}, {}] span {} bytes",
                                    shape_string(e.shape), e.elements, e.begin, e.end, span));
    }
    return e;
  }

  // The spec requires the tensors to tile the data buffer: a hole or trailing bytes would be
  // data nobody reads, an overlap would be two tensors sharing bytes.
  void check_layout(const std::vector<Entry>& entries) const {
    std::uint64_t at = 0;
    const Entry* previous = nullptr;
    for (const Entry& e : entries) {
      if (e.begin < at) {
        fail(fmt::format("tensors {} [{}, {}) and {} [{}, {}) overlap", quote_name(previous->name),
                         previous->begin, previous->end, quote_name(e.name), e.begin, e.end));
      }
      if (e.begin > at) {
        if (previous == nullptr) {
          fail(fmt::format("{} unused bytes in the data buffer before the first tensor {}", e.begin,
                           quote_name(e.name)));
        }
        fail(
            fmt::format("{} unused bytes in the data buffer between tensor {} (ends at {}) and "
                        "tensor {} (begins at {})",
                        e.begin - at, quote_name(previous->name), at, quote_name(e.name), e.begin));
      }
      at = e.end;
      previous = &e;
    }
    if (at != data_.size()) {
      if (previous == nullptr) {
        fail(fmt::format("{} unused bytes in the data buffer, and no tensors", data_.size()));
      }
      fail(fmt::format("{} unused bytes in the data buffer after the last tensor {} (ends at {})",
                       data_.size() - at, quote_name(previous->name), at));
    }
  }

  std::span<const std::uint8_t> bytes_;
  std::span<const std::uint8_t> data_;  // the buffer after the header
  std::string_view source_;
  const SafetensorsLimits& limits_;
};

[[noreturn]] void encode_fail(std::string_view what) {
  throw Error(fmt::format("cannot encode safetensors: {}", what));
}

}  // namespace

const NamedTensor* SafetensorsFile::find(std::string_view name) const {
  const auto it = std::find_if(tensors.begin(), tensors.end(),
                               [&](const NamedTensor& t) { return t.name == name; });
  return it == tensors.end() ? nullptr : &*it;
}

const NamedTensor& SafetensorsFile::tensor(std::string_view name) const {
  const NamedTensor* t = find(name);
  if (t == nullptr) throw Error(fmt::format("{}: no tensor {}", source, quote_name(name)));
  return *t;
}

std::string encode_safetensors(std::span<const TensorRef> tensors,
                               const std::map<std::string, std::string>& metadata) {
  // ordered_json keeps the entries in layout order, which makes the header easy to read.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header[std::string(kMetadataKey)] = metadata;

  std::set<std::string_view> names;
  std::uint64_t offset = 0;
  for (const TensorRef& t : tensors) {
    if (t.name.empty()) encode_fail("a tensor has an empty name");
    if (t.name == kMetadataKey) encode_fail("a tensor cannot be named \"__metadata__\"");
    if (!names.insert(t.name).second) {
      encode_fail(fmt::format("two tensors are named {}", quote_name(t.name)));
    }
    std::vector<std::uint64_t> dims;
    for (const std::int64_t d : t.shape) {
      if (d < 0) {
        encode_fail(fmt::format("tensor {} has a negative dimension in shape {}",
                                quote_name(t.name), shape_string(t.shape)));
      }
      dims.push_back(static_cast<std::uint64_t>(d));
    }
    const std::optional<std::uint64_t> count =
        element_count(dims, std::numeric_limits<std::uint64_t>::max());
    if (!count || *count != t.data.size()) {
      encode_fail(fmt::format("tensor {} has shape {} but {} values", quote_name(t.name),
                              shape_string(t.shape), t.data.size()));
    }
    const std::uint64_t bytes = t.data.size_bytes();
    header[t.name] = {
        {"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }

  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::ordered_json::type_error&) {
    encode_fail("a tensor name or metadata string is not valid UTF-8");
  }
  // Spaces pad the header to a multiple of 8, so the data buffer (and with it every F32 tensor)
  // starts 8-aligned in the file and in a memory map of it.
  text.append((kLengthBytes - text.size() % kLengthBytes) % kLengthBytes, ' ');

  std::string out;
  out.reserve(kLengthBytes + text.size() + static_cast<std::size_t>(offset));
  const std::uint64_t length = text.size();
  for (std::size_t i = 0; i < kLengthBytes; ++i) {
    out.push_back(static_cast<char>((length >> (8 * i)) & 0xFF));
  }
  out += text;
  for (const TensorRef& t : tensors) {
    if (!t.data.empty())
      out.append(reinterpret_cast<const char*>(t.data.data()), t.data.size_bytes());
  }
  return out;
}

void write_safetensors(const std::filesystem::path& path, std::span<const TensorRef> tensors,
                       const std::map<std::string, std::string>& metadata) {
  write_file_atomically(path, encode_safetensors(tensors, metadata));
}

SafetensorsFile parse_safetensors(std::span<const std::uint8_t> bytes, std::string_view source_name,
                                  const SafetensorsLimits& limits) {
  return Reader(bytes, source_name, limits).parse();
}

SafetensorsFile read_safetensors(const std::filesystem::path& path,
                                 const SafetensorsLimits& limits) {
  const std::vector<std::uint8_t> bytes = read_file_bytes(path, limits.max_file_bytes, Gzip::never);
  return parse_safetensors(bytes, path.string(), limits);
}

}  // namespace backprop
