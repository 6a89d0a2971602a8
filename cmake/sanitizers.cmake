# With BACKPROP_SANITIZE every target in the tree is built with ASan + UBSan, and UBSan aborts
# on the first finding so that a test run cannot pass over one.
# Line tables (-g1, after the build type's -g) are all a sanitizer's stack trace needs; full
# debug info made the library's JSON and safetensors sources 35% slower to compile.
if(BACKPROP_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
                      -g1)
  add_link_options(-fsanitize=address,undefined)
endif()

# A sanitized Debug build (scripts/test.sh) compiles at -O0, since the test and CLI sources are
# heavy to compile (GoogleTest, CLI11, nlohmann-json) and light to run. The library and the
# fuzz targets are the exceptions: every training test runs through the library's kernels, and
# a fuzzer's time is all executions of its target, so they keep -O1.
function(backprop_sanitized_debug_optimization target)
  if(BACKPROP_SANITIZE AND CMAKE_BUILD_TYPE STREQUAL "Debug")
    target_compile_options(${target} PRIVATE -O1)
  endif()
endfunction()
