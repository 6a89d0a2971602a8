# With BACKPROP_SANITIZE every target in the tree is built with ASan + UBSan, and UBSan aborts
# on the first finding so that a test run cannot pass over one.
if(BACKPROP_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
