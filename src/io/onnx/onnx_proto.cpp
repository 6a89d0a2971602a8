#include "io/onnx/onnx_proto.hpp"

#include <fmt/format.h>

#include <bit>
#include <cstring>
#include <utility>

#include "backprop/error.hpp"
#include "io/onnx/protobuf.hpp"

namespace backprop::onnx {

namespace {

using onnx_wire::Field;
using onnx_wire::Reader;
using onnx_wire::WireType;
using onnx_wire::Writer;
using Bytes = std::span<const std::uint8_t>;

// Bytes per element of raw_data; 0 for STRING and unknown types (no raw_data allowed).
std::size_t element_size(std::int32_t type) {
  switch (type) {
    case 1:   // FLOAT
    case 6:   // INT32
    case 12:  // UINT32
      return 4;
    case 2:  // UINT8
    case 3:  // INT8
    case 9:  // BOOL
      return 1;
    case 4:   // UINT16
    case 5:   // INT16
    case 10:  // FLOAT16
    case 16:  // BFLOAT16
      return 2;
    case 7:   // INT64
    case 11:  // DOUBLE
    case 13:  // UINT64
    case 14:  // COMPLEX64
      return 8;
    case 15:  // COMPLEX128
      return 16;
    default:
      return 0;
  }
}

bool is_integer_type(std::int32_t t) {
  return t == 2 || t == 3 || t == 4 || t == 5 || t == 6 || t == 7 || t == 9 || t == 12 || t == 13;
}

[[noreturn]] void fail(const std::string& where, const std::string& problem) {
  throw Error(fmt::format("{}: {}", where, problem));
}

std::string text(std::string_view s) { return std::string(s); }

// Calls `each(value_field)` for every element of a repeated scalar field: once for an unpacked
// element, once per element of a packed run (re-read as fields of the element's wire type).
template <class F>
void repeated_scalars(const Reader& r, const Field& f, WireType element, F&& each) {
  if (f.type == element) {
    each(f);
    return;
  }
  if (f.type != WireType::length)
    fail(r.what(), fmt::format("field {} has the wrong wire type", f.number));
  const Bytes run = f.bytes;
  std::size_t pos = 0;
  while (pos < run.size()) {
    Field v;
    v.number = f.number;
    v.type = element;
    if (element == WireType::varint) {
      if (!onnx_wire::read_varint(run, &pos, &v.integer))
        fail(r.what(), fmt::format("packed field {} holds a malformed varint", f.number));
    } else {
      const std::size_t n = element == WireType::fixed32 ? 4 : 8;
      if (run.size() - pos < n)
        fail(r.what(), fmt::format("packed field {} is {} bytes, not a multiple of {}", f.number,
                                   run.size(), n));
      std::uint64_t bits = 0;
      std::memcpy(&bits, run.data() + pos, n);
      v.integer = bits;
      pos += n;
    }
    each(v);
  }
}

class TensorDecoder {
 public:
  TensorDecoder(Bytes bytes, std::string where, const OnnxLimits& limits)
      : bytes_(bytes), where_(std::move(where)), limits_(limits) {}

  Tensor decode() {
    Tensor t;
    // Pass 1: what the tensor is (dims, type, where its data lives), before any value is kept.
    bool external = false;
    std::string location;
    std::size_t data_fields = 0;
    {
      Reader r(bytes_, where_);
      while (!r.done()) {
        const Field f = r.next();
        switch (f.number) {
          case 1:
            repeated_scalars(r, f, WireType::varint, [&](const Field& v) {
              if (t.dims.size() >= limits_.max_dims)
                fail(where_, fmt::format("more than {} dims", limits_.max_dims));
              t.dims.push_back(r.int64(v));
            });
            break;
          case 2:
            t.data_type = static_cast<std::int32_t>(r.int64(f));
            break;
          case 8:
            t.name = text(r.string(f));
            break;
          case 13: {
            external = true;
            Reader entry(r.message(f), where_ + ".external_data");
            std::string key, value;
            while (!entry.done()) {
              const Field e = entry.next();
              if (e.number == 1) key = text(entry.string(e));
              if (e.number == 2) value = text(entry.string(e));
            }
            if (key == "location") location = value;
            break;
          }
          case 14:
            if (r.int64(f) != 0) external = true;
            break;
          case 4:
          case 5:
          case 6:
          case 7:
          case 9:
          case 10:
          case 11:
            ++data_fields;
            break;
          default:
            break;
        }
      }
    }
    if (!t.name.empty()) where_ += fmt::format(" '{}'", t.name);
    if (external) {
      const bool absolute = !location.empty() && location.front() == '/';
      const bool parent = location.find("..") != std::string::npos;
      fail(where_, fmt::format("keeps its data in an external file ('{}'{}); backprop reads "
                               "self-contained ONNX files only: save the model with its weights "
                               "inside (onnx.save_model(model, path, save_as_external_data=False))",
                               location,
                               absolute ? ", an absolute path"
                               : parent ? ", a path that leaves the model's folder"
                                        : ""));
    }
    t.elements = 1;
    const bool is_float = t.data_type == kFloat || t.data_type == kDouble;
    const std::uint64_t cap = is_float ? limits_.max_float_elements : limits_.max_other_elements;
    for (std::size_t k = 0; k < t.dims.size(); ++k) {
      const std::int64_t d = t.dims[k];
      if (d < 0) fail(where_, fmt::format("dim {} is {} (dims must be >= 0)", k, d));
      if (d == 0) t.elements = 0;
    }
    if (t.elements != 0) {
      for (const std::int64_t d : t.dims) {
        if (t.elements > cap / static_cast<std::uint64_t>(d))
          fail(where_,
               fmt::format("dims [{}] hold more than {} elements", fmt::join(t.dims, ", "), cap));
        t.elements *= static_cast<std::uint64_t>(d);
      }
    }
    if (t.data_type == 0) fail(where_, "has no data_type");

    // Pass 2: the values, counted against `elements` as they come.
    Reader r(bytes_, where_);
    bool raw_seen = false;
    while (!r.done()) {
      const Field f = r.next();
      switch (f.number) {
        case 9:
          raw_seen = true;
          decode_raw(t, r.message(f));
          break;
        case 4:
          expect_type(t, f, t.data_type == kFloat, "float_data");
          repeated_scalars(r, f, WireType::fixed32,
                           [&](const Field& v) { push_float(t, r.float32(v)); });
          break;
        case 10:
          expect_type(t, f, t.data_type == kDouble, "double_data");
          repeated_scalars(r, f, WireType::fixed64, [&](const Field& v) {
            push_float(t, static_cast<float>(r.float64(v)));
          });
          break;
        case 5:
          expect_type(t, f, is_integer_type(t.data_type) && t.data_type != kInt64, "int32_data");
          repeated_scalars(r, f, WireType::varint, [&](const Field& v) {
            push_int(t, static_cast<std::int32_t>(r.int64(v)));
          });
          break;
        case 7:
          expect_type(t, f, t.data_type == kInt64, "int64_data");
          repeated_scalars(r, f, WireType::varint,
                           [&](const Field& v) { push_int(t, r.int64(v)); });
          break;
        case 11:
          expect_type(t, f, t.data_type == 12 || t.data_type == 13, "uint64_data");
          repeated_scalars(r, f, WireType::varint, [&](const Field& v) {
            push_int(t, static_cast<std::int64_t>(v.integer));
          });
          break;
        case 6:
          expect_type(t, f, t.data_type == kString, "string_data");
          if (t.strings.size() >= t.elements)
            fail(where_, fmt::format("holds more than the {} strings its dims give", t.elements));
          t.strings.push_back(text(r.string(f)));
          break;
        default:
          break;
      }
    }
    if (raw_seen && data_fields > 1) fail(where_, "has both raw_data and a typed data field");
    const std::uint64_t count = t.floats.size() + t.ints.size() + t.strings.size();
    t.decoded = t.data_type == kFloat || t.data_type == kDouble || t.data_type == kString ||
                is_integer_type(t.data_type);
    if (t.decoded && count != t.elements)
      fail(where_, fmt::format("holds {} values, but its dims [{}] need {}", count,
                               fmt::join(t.dims, ", "), t.elements));
    return t;
  }

 private:
  void expect_type(const Tensor& t, const Field& f, bool ok, const char* field) const {
    if (!ok)
      fail(where_, fmt::format("has {} (field {}) but data_type {}", field, f.number,
                               data_type_name(t.data_type)));
  }
  void check_room(const Tensor& t) const {
    if (t.floats.size() + t.ints.size() >= t.elements)
      fail(where_, fmt::format("holds more than the {} values its dims [{}] give", t.elements,
                               fmt::join(t.dims, ", ")));
  }
  void push_float(Tensor& t, float v) {
    check_room(t);
    t.floats.push_back(v);
  }
  void push_int(Tensor& t, std::int64_t v) {
    check_room(t);
    t.ints.push_back(v);
  }

  void decode_raw(Tensor& t, Bytes raw) {
    const std::size_t size = element_size(t.data_type);
    if (size == 0)
      fail(where_, fmt::format("has raw_data, which data_type {} cannot have",
                               data_type_name(t.data_type)));
    if (!t.floats.empty() || !t.ints.empty())
      fail(where_, "has both raw_data and a typed data field");
    // elements <= 2^31 and size <= 16, so the product cannot overflow.
    if (raw.size() != t.elements * size)
      fail(where_, fmt::format("raw_data is {} bytes, but dims [{}] of {} need {} x {} = {}",
                               raw.size(), fmt::join(t.dims, ", "), data_type_name(t.data_type),
                               t.elements, size, t.elements * size));
    const auto n = static_cast<std::size_t>(t.elements);
    const std::uint8_t* p = raw.data();
    if (t.data_type == kFloat) {
      t.floats.resize(n);
      if (n != 0) std::memcpy(t.floats.data(), p, n * 4);
    } else if (t.data_type == kDouble) {
      t.floats.resize(n);
      for (std::size_t i = 0; i < n; ++i) {
        double v;
        std::memcpy(&v, p + 8 * i, 8);
        t.floats[i] = static_cast<float>(v);
      }
    } else if (is_integer_type(t.data_type)) {
      t.ints.resize(n);
      for (std::size_t i = 0; i < n; ++i) {
        std::uint64_t bits = 0;
        std::memcpy(&bits, p + size * i, size);
        // Sign-extend the signed types (INT8, INT16, INT32; INT64 is whole).
        const bool is_signed = t.data_type == 3 || t.data_type == 5 || t.data_type == 6;
        if (is_signed && size < 8 && (bits >> (8 * size - 1)) != 0)
          bits |= ~std::uint64_t{0} << (8 * size);
        t.ints[i] = static_cast<std::int64_t>(bits);
      }
    }
  }

  Bytes bytes_;
  std::string where_;
  const OnnxLimits& limits_;
};

Tensor decode_tensor(Bytes bytes, const std::string& where, const OnnxLimits& limits) {
  return TensorDecoder(bytes, where, limits).decode();
}

ValueInfo decode_value_info(Bytes bytes, const std::string& where) {
  ValueInfo v;
  Reader r(bytes, where);
  while (!r.done()) {
    const Field f = r.next();
    if (f.number == 1) {
      v.name = text(r.string(f));
    } else if (f.number == 2) {
      Reader type(r.message(f), where + ".type");
      while (!type.done()) {
        const Field tf = type.next();
        if (tf.number != 1) continue;  // sequence, map, optional, sparse: not a tensor
        v.is_tensor = true;
        Reader tensor(type.message(tf), where + ".type.tensor_type");
        while (!tensor.done()) {
          const Field g = tensor.next();
          if (g.number == 1) {
            v.elem_type = static_cast<std::int32_t>(tensor.int64(g));
          } else if (g.number == 2) {
            v.shape.emplace();
            Reader shape(tensor.message(g), where + ".shape");
            while (!shape.done()) {
              const Field d = shape.next();
              if (d.number != 1) continue;
              if (v.shape->size() >= 64) fail(where, "shape has more than 64 dims");
              Dim dim;
              Reader dr(shape.message(d), where + ".shape.dim");
              while (!dr.done()) {
                const Field x = dr.next();
                if (x.number == 1) dim.value = dr.int64(x);
                if (x.number == 2) dim.param = text(dr.string(x));
              }
              v.shape->push_back(std::move(dim));
            }
          }
        }
      }
    }
  }
  return v;
}

Attribute decode_attribute(Bytes bytes, const std::string& where, const OnnxLimits& limits) {
  Attribute a;
  Reader r(bytes, where);
  auto room = [&](std::size_t size) {
    if (size >= limits.max_other_elements)
      fail(where, fmt::format("holds more than {} values", limits.max_other_elements));
  };
  while (!r.done()) {
    const Field f = r.next();
    switch (f.number) {
      case 1:
        a.name = text(r.string(f));
        break;
      case 20:
        a.type = static_cast<AttributeType>(r.int64(f));
        break;
      case 2:
        a.f = r.float32(f);
        break;
      case 3:
        a.i = r.int64(f);
        break;
      case 4:
        a.s = text(r.string(f));
        break;
      case 5:
        a.t = decode_tensor(r.message(f), where + ".t", limits);
        break;
      case 6:
      case 10:
      case 11:
        a.has_graph = true;
        break;
      case 7:
        repeated_scalars(r, f, WireType::fixed32, [&](const Field& v) {
          room(a.floats.size());
          a.floats.push_back(r.float32(v));
        });
        break;
      case 8:
        repeated_scalars(r, f, WireType::varint, [&](const Field& v) {
          room(a.ints.size());
          a.ints.push_back(r.int64(v));
        });
        break;
      case 9:
        room(a.strings.size());
        a.strings.push_back(text(r.string(f)));
        break;
      default:
        break;
    }
  }
  return a;
}

Node decode_node(Bytes bytes, const std::string& where, const OnnxLimits& limits) {
  Node n;
  Reader r(bytes, where);
  while (!r.done()) {
    const Field f = r.next();
    switch (f.number) {
      case 1:
      case 2: {
        auto& names = f.number == 1 ? n.inputs : n.outputs;
        if (names.size() >= limits.max_values)
          fail(where, fmt::format("more than {} inputs or outputs", limits.max_values));
        names.push_back(text(r.string(f)));
        break;
      }
      case 3:
        n.name = text(r.string(f));
        break;
      case 4:
        n.op_type = text(r.string(f));
        break;
      case 7:
        n.domain = text(r.string(f));
        break;
      case 5:
        if (n.attributes.size() >= limits.max_attributes)
          fail(where, fmt::format("more than {} attributes", limits.max_attributes));
        n.attributes.push_back(decode_attribute(
            r.message(f), fmt::format("{}.attribute[{}]", where, n.attributes.size()), limits));
        break;
      default:
        break;
    }
  }
  return n;
}

Graph decode_graph(Bytes bytes, const std::string& where, const OnnxLimits& limits) {
  Graph g;
  Reader r(bytes, where);
  auto count = [&](std::size_t size, std::size_t cap, const char* what) {
    if (size >= cap) fail(where, fmt::format("more than {} {}", cap, what));
  };
  while (!r.done()) {
    const Field f = r.next();
    switch (f.number) {
      case 1:
        count(g.nodes.size(), limits.max_nodes, "nodes");
        g.nodes.push_back(
            decode_node(r.message(f), fmt::format("{}.node[{}]", where, g.nodes.size()), limits));
        break;
      case 2:
        g.name = text(r.string(f));
        break;
      case 5:
        count(g.initializers.size(), limits.max_initializers, "initializers");
        g.initializers.push_back(decode_tensor(
            r.message(f), fmt::format("{}.initializer[{}]", where, g.initializers.size()), limits));
        break;
      case 11:
      case 12: {
        auto& list = f.number == 11 ? g.inputs : g.outputs;
        count(list.size(), limits.max_values, "inputs or outputs");
        list.push_back(decode_value_info(
            r.message(f),
            fmt::format("{}.{}[{}]", where, f.number == 11 ? "input" : "output", list.size())));
        break;
      }
      case 15:
        fail(where, "has a sparse_initializer, which backprop does not read");
      default:
        break;
    }
  }
  return g;
}

// ---- Encoding ------------------------------------------------------------------------------

Writer encode_tensor(const Tensor& t) {
  Writer w;
  for (const std::int64_t d : t.dims) w.int64_field(1, d);
  w.int64_field(2, t.data_type);
  if (!t.name.empty()) w.bytes_field(8, t.name);
  if (t.data_type == kString) {
    for (const auto& s : t.strings) w.bytes_field(6, s);
  } else if (t.data_type == kInt64) {
    std::string raw(t.ints.size() * 8, '\0');
    if (!t.ints.empty()) std::memcpy(raw.data(), t.ints.data(), raw.size());
    w.bytes_field(9, raw);
  } else {
    std::string raw(t.floats.size() * 4, '\0');
    if (!t.floats.empty()) std::memcpy(raw.data(), t.floats.data(), raw.size());
    w.bytes_field(9, raw);
  }
  return w;
}

Writer encode_attribute(const Attribute& a) {
  Writer w;
  w.bytes_field(1, a.name);
  switch (a.type) {
    case AttributeType::float_:
      w.float_field(2, a.f);
      break;
    case AttributeType::int_:
      w.int64_field(3, a.i);
      break;
    case AttributeType::string:
      w.bytes_field(4, a.s);
      break;
    case AttributeType::tensor:
      if (a.t) w.message(5, encode_tensor(*a.t));
      break;
    case AttributeType::floats:
      for (const float v : a.floats) w.float_field(7, v);
      break;
    case AttributeType::ints:
      for (const std::int64_t v : a.ints) w.int64_field(8, v);
      break;
    case AttributeType::strings:
      for (const auto& s : a.strings) w.bytes_field(9, s);
      break;
    default:
      break;
  }
  w.int64_field(20, static_cast<std::int64_t>(a.type));
  return w;
}

Writer encode_value_info(const ValueInfo& v) {
  Writer shape;
  if (v.shape) {
    for (const Dim& d : *v.shape) {
      Writer dim;
      if (d.value) dim.int64_field(1, *d.value);
      if (!d.param.empty()) dim.bytes_field(2, d.param);
      shape.message(1, dim);
    }
  }
  Writer tensor;
  tensor.int64_field(1, v.elem_type);
  if (v.shape) tensor.message(2, shape);
  Writer type;
  type.message(1, tensor);
  Writer w;
  w.bytes_field(1, v.name);
  w.message(2, type);
  return w;
}

}  // namespace

std::string data_type_name(std::int32_t type) {
  static const char* const kNames[] = {"UNDEFINED",  "FLOAT",   "UINT8",  "INT8",   "UINT16",
                                       "INT16",      "INT32",   "INT64",  "STRING", "BOOL",
                                       "FLOAT16",    "DOUBLE",  "UINT32", "UINT64", "COMPLEX64",
                                       "COMPLEX128", "BFLOAT16"};
  if (type >= 0 && type < static_cast<std::int32_t>(std::size(kNames))) return kNames[type];
  return fmt::format("type {}", type);
}

const Attribute* Node::attribute(std::string_view wanted) const {
  for (const Attribute& a : attributes)
    if (a.name == wanted) return &a;
  return nullptr;
}

Model decode_model(std::span<const std::uint8_t> bytes, std::string_view source,
                   const OnnxLimits& limits) {
  const std::string where(source);
  if (bytes.size() > limits.max_file_bytes)
    fail(where, fmt::format("{} bytes is more than the {} an ONNX file may hold", bytes.size(),
                            limits.max_file_bytes));
  if (bytes.empty()) fail(where, "empty file (not an ONNX model)");
  Model m;
  bool has_graph = false;
  Reader r(bytes, where);
  while (!r.done()) {
    const Field f = r.next();
    switch (f.number) {
      case 1:
        m.ir_version = r.int64(f);
        break;
      case 2:
        m.producer_name = text(r.string(f));
        break;
      case 3:
        m.producer_version = text(r.string(f));
        break;
      case 7:
        if (has_graph) fail(where, "has two graphs");
        has_graph = true;
        m.graph = decode_graph(r.message(f), where + ": graph", limits);
        break;
      case 8: {
        if (m.opsets.size() >= limits.max_values) fail(where, "too many opset_import entries");
        OpsetId id;
        Reader o(r.message(f), where + ": opset_import");
        while (!o.done()) {
          const Field x = o.next();
          if (x.number == 1) id.domain = text(o.string(x));
          if (x.number == 2) id.version = o.int64(x);
        }
        m.opsets.push_back(std::move(id));
        break;
      }
      case 14: {
        if (m.metadata.size() >= limits.max_values) fail(where, "too many metadata_props");
        std::pair<std::string, std::string> entry;
        Reader e(r.message(f), where + ": metadata_props");
        while (!e.done()) {
          const Field x = e.next();
          if (x.number == 1) entry.first = text(e.string(x));
          if (x.number == 2) entry.second = text(e.string(x));
        }
        m.metadata.push_back(std::move(entry));
        break;
      }
      default:
        break;
    }
  }
  if (!has_graph) fail(where, "not an ONNX model (no graph)");
  return m;
}

std::string encode_model(const Model& m) {
  Writer graph;
  for (const Node& n : m.graph.nodes) {
    Writer node;
    for (const auto& s : n.inputs) node.bytes_field(1, s);
    for (const auto& s : n.outputs) node.bytes_field(2, s);
    if (!n.name.empty()) node.bytes_field(3, n.name);
    node.bytes_field(4, n.op_type);
    for (const Attribute& a : n.attributes) node.message(5, encode_attribute(a));
    if (!n.domain.empty()) node.bytes_field(7, n.domain);
    graph.message(1, node);
  }
  graph.bytes_field(2, m.graph.name);
  for (const Tensor& t : m.graph.initializers) graph.message(5, encode_tensor(t));
  for (const ValueInfo& v : m.graph.inputs) graph.message(11, encode_value_info(v));
  for (const ValueInfo& v : m.graph.outputs) graph.message(12, encode_value_info(v));

  Writer w;
  w.int64_field(1, m.ir_version);
  if (!m.producer_name.empty()) w.bytes_field(2, m.producer_name);
  if (!m.producer_version.empty()) w.bytes_field(3, m.producer_version);
  w.message(7, graph);
  for (const OpsetId& o : m.opsets) {
    Writer id;
    if (!o.domain.empty()) id.bytes_field(1, o.domain);
    id.int64_field(2, o.version);
    w.message(8, id);
  }
  for (const auto& [key, value] : m.metadata) {
    Writer e;
    e.bytes_field(1, key);
    e.bytes_field(2, value);
    w.message(14, e);
  }
  return w.bytes();
}

}  // namespace backprop::onnx
