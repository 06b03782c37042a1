# SPDX-License-Identifier: Apache-2.0
# difflab_add_plugin(NAME <name> SOURCES ... [TESTS ...] [LIBRARIES ...] [NO_INSTALL])
#
# Builds difflab_<name>.so, a MODULE with hidden visibility that links difflab::core, and,
# when TESTS are given and doctest is available, one test executable whose every TEST_CASE
# is a CTest test. The same function builds in-tree plugins and out-of-tree ones after
# find_package(difflab).

# Warnings for difflab's own targets (the dev preset turns them into errors).
function(difflab_target_flags target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  if(DIFFLAB_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# One doctest main per build tree, shared by every test executable.
function(difflab_doctest_main)
  if(NOT TARGET difflab_doctest_main)
    set(main ${CMAKE_BINARY_DIR}/difflab_doctest_main.cpp)
    # CONFIGURE writes only when the text changes: a rewrite at every configure would relink
    # every test executable.
    file(CONFIGURE OUTPUT ${main} CONTENT "#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN\n#include <doctest/doctest.h>\n")
    add_library(difflab_doctest_main STATIC ${main})
    target_link_libraries(difflab_doctest_main PUBLIC doctest::doctest)
  endif()
endfunction()

function(difflab_add_plugin)
  cmake_parse_arguments(ARG "NO_INSTALL" "NAME" "SOURCES;TESTS;LIBRARIES" ${ARGN})
  if(NOT ARG_NAME OR NOT ARG_SOURCES)
    message(FATAL_ERROR "difflab_add_plugin: NAME and SOURCES are required")
  endif()
  if(NOT ARG_NAME MATCHES "^[a-z][a-z0-9_]*$")
    message(FATAL_ERROR "difflab_add_plugin: plugin name '${ARG_NAME}' must be lowercase snake_case")
  endif()
  set(target difflab_${ARG_NAME})

  # The sources once, shared by the plugin library and its tests.
  add_library(${target}_objects OBJECT ${ARG_SOURCES})
  set_target_properties(${target}_objects PROPERTIES
    POSITION_INDEPENDENT_CODE ON CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  target_link_libraries(${target}_objects PUBLIC difflab::core ${ARG_LIBRARIES})
  target_include_directories(${target}_objects PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
  if(COMMAND difflab_target_flags AND TARGET difflab_core)
    difflab_target_flags(${target}_objects)
  endif()

  add_library(${target} MODULE)
  target_link_libraries(${target} PRIVATE ${target}_objects)
  set_target_properties(${target} PROPERTIES PREFIX "" OUTPUT_NAME ${target})
  if(DIFFLAB_PLUGIN_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${DIFFLAB_PLUGIN_OUTPUT_DIR})
  endif()
  if(TARGET difflab_runtime AND NOT ARG_NO_INSTALL)
    add_dependencies(difflab_runtime ${target})
  endif()
  if(ARG_NO_INSTALL)
    # test fixtures stay in the build tree
  elseif(DIFFLAB_PLUGIN_INSTALL_DIR)
    install(TARGETS ${target} LIBRARY DESTINATION ${DIFFLAB_PLUGIN_INSTALL_DIR})
  else()
    install(TARGETS ${target} LIBRARY DESTINATION lib/difflab)
  endif()

  if(ARG_TESTS AND BUILD_TESTING AND COMMAND doctest_discover_tests)
    difflab_doctest_main()
    add_executable(${target}_tests ${ARG_TESTS})
    target_link_libraries(${target}_tests PRIVATE ${target}_objects difflab_doctest_main)
    target_compile_definitions(${target}_tests PRIVATE
      DIFFLAB_PLUGIN_DIR="$<TARGET_FILE_DIR:${target}>")
    add_dependencies(${target}_tests ${target})
    doctest_discover_tests(${target}_tests TEST_PREFIX "${ARG_NAME}: ")
  endif()
endfunction()
