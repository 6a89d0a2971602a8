# `cmake --install build --prefix P` puts into P:
#   include/backprop/*.hpp                    the public API
#   lib/libbackprop.a                         the library
#   bin/backprop                              the command-line tool (when built)
#   lib/cmake/backprop/                       the CMake package: find_package(backprop CONFIG)
#                                             gives backprop::backprop
#   lib/pkgconfig/backprop.pc                 the same for pkg-config (--static: it is a static
#                                             library, so its dependencies are in *.private)
# (lib is CMAKE_INSTALL_LIBDIR, e.g. lib/x86_64-linux-gnu under /usr on Debian.)
include(CMakePackageConfigHelpers)

set(BACKPROP_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/backprop)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/backprop
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.hpp")
install(TARGETS backprop EXPORT backprop-targets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
if(TARGET backprop_cli)
  install(TARGETS backprop_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

install(EXPORT backprop-targets
        NAMESPACE backprop::
        FILE backprop-targets.cmake
        DESTINATION ${BACKPROP_CMAKE_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/backprop-config.cmake.in
                              ${PROJECT_BINARY_DIR}/backprop-config.cmake
                              INSTALL_DESTINATION ${BACKPROP_CMAKE_DIR})
# 0.x: a minor version may change the API, so only the same major.minor is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/backprop-config-version.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/backprop-config.cmake
              ${PROJECT_BINARY_DIR}/backprop-config-version.cmake
        DESTINATION ${BACKPROP_CMAKE_DIR})

# backprop.pc finds its prefix from its own location (${pcfiledir}), so the tree works from
# whatever prefix `cmake --install --prefix` was given, not only the one configured.
set(BACKPROP_PC_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(BACKPROP_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH BACKPROP_PC_UP "/prefix/${BACKPROP_PC_DIR}" "/prefix")
  string(REGEX REPLACE "/$" "" BACKPROP_PC_UP "${BACKPROP_PC_UP}")
  set(BACKPROP_PC_PREFIX "\${pcfiledir}/${BACKPROP_PC_UP}")
endif()
configure_file(${CMAKE_CURRENT_LIST_DIR}/backprop.pc.in ${PROJECT_BINARY_DIR}/backprop.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/backprop.pc DESTINATION ${BACKPROP_PC_DIR})
