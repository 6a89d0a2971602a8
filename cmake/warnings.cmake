# backprop_set_warnings(target): the project's warning set, applied to every target we build.
function(backprop_set_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
    -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
    -Wnull-dereference -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
  if(BACKPROP_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
