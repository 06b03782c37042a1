# SPDX-License-Identifier: Apache-2.0
# Checks the core's layering: a header in include/difflab/<layer>/ or a source in src/<layer>/
# includes difflab headers of its own layer or of layers below it, never above; and every
# public header lives in a layer folder. Lists every violation, then fails.
# usage: cmake -DROOT=<dir holding include/ and src/> -P check_layers.cmake
cmake_minimum_required(VERSION 3.22)

# Bottom to top; docs/architecture.md describes each.
set(layers base tensor plugin io diffusion run testing)

if(NOT ROOT OR NOT IS_DIRECTORY "${ROOT}/include/difflab")
  message(FATAL_ERROR "check_layers: pass -DROOT=<dir with include/difflab and src>")
endif()

get_filename_component(ROOT "${ROOT}" ABSOLUTE)
set(violations "")
file(GLOB loose RELATIVE "${ROOT}" "${ROOT}/include/difflab/*.h")
foreach(file IN LISTS loose)
  list(APPEND violations "${file}: a public header outside a layer folder; move it to include/difflab/<layer>/")
endforeach()

set(checked 0)
foreach(layer IN LISTS layers)
  list(FIND layers ${layer} rank)
  file(GLOB_RECURSE files RELATIVE "${ROOT}"
    "${ROOT}/include/difflab/${layer}/*.h" "${ROOT}/src/${layer}/*.h" "${ROOT}/src/${layer}/*.cpp")
  foreach(file IN LISTS files)
    math(EXPR checked "${checked} + 1")
    file(STRINGS "${ROOT}/${file}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]difflab/")
    foreach(line IN LISTS lines)
      if(NOT line MATCHES "difflab/([a-z_]+)/")
        list(APPEND violations "${file}: '${line}' names no layer")
        continue()
      endif()
      set(used ${CMAKE_MATCH_1})
      list(FIND layers ${used} used_rank)
      if(used_rank EQUAL -1)
        list(APPEND violations "${file}: '${line}' names an unknown layer '${used}'")
      elseif(used_rank GREATER rank)
        list(APPEND violations "${file}: '${line}' reaches up from layer ${layer} to layer ${used}")
      endif()
    endforeach()
  endforeach()
endforeach()

if(violations)
  # NOTICE prints each line as it is (FATAL_ERROR would rewrap them).
  foreach(violation IN LISTS violations)
    message(NOTICE "${violation}")
  endforeach()
  list(LENGTH violations count)
  message(FATAL_ERROR "${count} layering violations (layers from the bottom: ${layers})")
endif()
message(STATUS "layering: ${checked} files keep to the layers (${layers})")
