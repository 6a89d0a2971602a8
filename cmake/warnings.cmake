# backprop_set_warnings(target): the project's warning set, applied to every target we build.
function(backprop_set_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
    -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
    -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
  # GCC 12's -Wrestrict and -Wnull-dereference fire inside libstdc++'s own inlined string and
  # streambuf code at -O2 (GCC bugs 105329, 105651), not on ours: off for GCC only.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wno-restrict)
  else()
    target_compile_options(${target} PRIVATE -Wnull-dereference)
  endif()
  if(BACKPROP_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
