// SPDX-License-Identifier: Apache-2.0
// Versions and the build fingerprint that a plugin must share with the core it loads into.
#pragma once

#include <difflab/base/version_number.h>  // generated: DIFFLAB_VERSION from CMakeLists.txt
#include <dnnl_version.h>
#include <fmt/core.h>

#include <boost/version.hpp>

/// Bumped whenever a public header changes in a way that breaks plugins built against the
/// previous one (docs/plugin-abi.md), together with difflab's minor version (CHANGELOG.md).
#define DIFFLAB_PLUGIN_API_VERSION 6

#define DIFFLAB_STRINGIFY_(x) #x
#define DIFFLAB_STRINGIFY(x) DIFFLAB_STRINGIFY_(x)

#if defined(__clang__)
#define DIFFLAB_COMPILER_ "clang-" DIFFLAB_STRINGIFY(__clang_major__)
#elif defined(__GNUC__)
#define DIFFLAB_COMPILER_ "gcc-" DIFFLAB_STRINGIFY(__GNUC__)
#else
#define DIFFLAB_COMPILER_ "unknown-compiler"
#endif

#ifdef NDEBUG
#define DIFFLAB_NDEBUG_ "ndebug"
#else
#define DIFFLAB_NDEBUG_ "debug"
#endif

#if defined(__SANITIZE_ADDRESS__)
#define DIFFLAB_ASAN_ " asan"
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DIFFLAB_ASAN_ " asan"
#endif
#endif
#ifndef DIFFLAB_ASAN_
#define DIFFLAB_ASAN_ ""
#endif

/// What must match between the core and a plugin for C++ objects to cross between them:
/// compiler and major version, language standard, Boost, oneDNN, fmt, NDEBUG and ASan.
/// Computed where it is expanded, so a plugin carries the values it was compiled with.
#define DIFFLAB_BUILD_FINGERPRINT \
    DIFFLAB_COMPILER_ " c++" DIFFLAB_STRINGIFY(__cplusplus) " boost-" DIFFLAB_STRINGIFY(  \
        BOOST_VERSION) " dnnl-" DIFFLAB_STRINGIFY(DNNL_VERSION_MAJOR) "." DIFFLAB_STRINGIFY( \
        DNNL_VERSION_MINOR) " fmt-" DIFFLAB_STRINGIFY(FMT_VERSION) " " DIFFLAB_NDEBUG_ DIFFLAB_ASAN_

namespace difflab {

/// The fingerprint the core itself was built with.
const char* core_build_fingerprint();

}  // namespace difflab
