#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Types the code of "Writing a sampler" (docs/writing-a-plugin.md) into a fresh directory,
# builds it against an install of difflab, runs its conformance test and describes the sampler.
# usage: run_walkthrough_test.sh DIFFLAB_BUILD_DIR SOURCE_DIR WORK_DIR
set -euo pipefail
build=$1 source=$2 work=$3
rm -rf "$work" && mkdir -p "$work"

bash "$source/tests/euler_ancestral/doc_blocks.sh" "$source/docs/writing-a-plugin.md" "$work/euler_ancestral"
cmake --install "$build" --prefix "$work/prefix" >"$work/install.log"
cmake -S "$work/euler_ancestral" -B "$work/euler_ancestral/build" -G Ninja \
  -Ddifflab_DIR="$work/prefix/lib/cmake/difflab" >"$work/configure.log"
cmake --build "$work/euler_ancestral/build" >"$work/build.log"
ctest --test-dir "$work/euler_ancestral/build" --output-on-failure >"$work/ctest.log"
grep -q "100% tests passed, 0 tests failed out of 1" "$work/ctest.log"

export DIFFLAB_PLUGIN_PATH="$work/euler_ancestral/build"
"$work/prefix/bin/difflab" describe sampler/euler_ancestral >"$work/describe.txt"
grep -q "^  steps " "$work/describe.txt"
grep -q "^  spacing " "$work/describe.txt"
grep -q "^  eta " "$work/describe.txt"
echo "the walkthrough's sampler built against an install, passed its conformance test and was described"
