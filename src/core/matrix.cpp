#include "backprop/matrix.hpp"

#include <cstdlib>
#include <cstring>
#include <new>

namespace backprop {

namespace {
constexpr std::size_t kAlignment = 64;  // one cache line, one AVX-512 register
}

template <class T>
AlignedBuffer<T>::AlignedBuffer(std::size_t count) : size_(count) {
  if (count == 0) return;
  const std::size_t bytes = (count * sizeof(T) + kAlignment - 1) / kAlignment * kAlignment;
  void* p = std::aligned_alloc(kAlignment, bytes);
  if (p == nullptr) throw std::bad_alloc();
  std::memset(p, 0, bytes);
  data_.reset(static_cast<T*>(p));
}

template <class T>
void AlignedBuffer<T>::fill_zero() {
  if (size_ != 0) std::memset(data_.get(), 0, size_ * sizeof(T));
}

template <class T>
void AlignedBuffer<T>::Free::operator()(T* p) const {
  std::free(p);
}

template class AlignedBuffer<float>;
template class AlignedBuffer<double>;

}  // namespace backprop
