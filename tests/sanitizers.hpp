#pragma once
// What the tests need to know of the build they run in.

namespace backprop::testing_support {

// Whether this build runs under AddressSanitizer, which reserves terabytes of shadow memory up
// front (no address-space limit can apply) and checks for leaks in a thread of its own. GCC
// defines __SANITIZE_ADDRESS__; clang answers __has_feature.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
inline constexpr bool kAddressSanitizer = __has_feature(address_sanitizer);
#else
inline constexpr bool kAddressSanitizer = false;
#endif

}  // namespace backprop::testing_support
