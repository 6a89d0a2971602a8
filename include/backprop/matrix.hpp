#pragma once
// Row-major matrices. A minibatch X (B x p) stacks the seed's row vectors x (1 x p); a weight
// W is (in x out), so a dense layer is z = xW + b exactly as the seed writes it.
// Views are templated on the scalar only so that the same network runs in float (training)
// and in double (gradient checks).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <type_traits>

namespace backprop {

// A non-owning view of rows x cols values, row i starting at data + i * stride.
template <class T>
struct View {
  T* data = nullptr;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::int64_t stride = 0;  // elements between the starts of consecutive rows (>= cols)

  View() = default;
  View(T* d, std::int64_t r, std::int64_t c) : data(d), rows(r), cols(c), stride(c) {}
  View(T* d, std::int64_t r, std::int64_t c, std::int64_t s)
      : data(d), rows(r), cols(c), stride(s) {}
  // A mutable view narrows to a read-only one.
  template <class U>
  requires(std::is_const_v<T>&& std::is_same_v<std::remove_const_t<T>, U>)
      View(const View<U>& m)  // NOLINT(google-explicit-constructor)
      : data(m.data), rows(m.rows), cols(m.cols), stride(m.stride) {}

  T& operator()(std::int64_t i, std::int64_t j) const { return data[i * stride + j]; }
  T* row(std::int64_t i) const { return data + i * stride; }
  std::int64_t size() const { return rows * cols; }
  // The first n rows: a smaller minibatch in the same buffer.
  View top_rows(std::int64_t n) const { return {data, n, cols, stride}; }
};

using MatrixView = View<float>;
using ConstMatrixView = View<const float>;

// A 64-byte aligned buffer, allocated once and zero-filled; the network's parameters,
// gradients, activations and optimiser state all live in buffers of this kind.
template <class T>
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(std::size_t count);
  std::size_t size() const { return size_; }
  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  std::span<T> span() { return {data_.get(), size_}; }
  std::span<const T> span() const { return {data_.get(), size_}; }
  void fill_zero();

 private:
  struct Free {
    void operator()(T* p) const;
  };
  std::unique_ptr<T[], Free> data_;
  std::size_t size_ = 0;
};

extern template class AlignedBuffer<float>;
extern template class AlignedBuffer<double>;

}  // namespace backprop
