#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds tests/consumer against difflab's build tree or an install tree, loads it through
# DIFFLAB_PLUGIN_PATH, lists it and runs an experiment with it.
# usage: run_consumer_test.sh build-tree|install DIFFLAB_BUILD_DIR SOURCE_DIR WORK_DIR
set -euo pipefail
mode=$1 build=$2 source=$3 work=$4
rm -rf "$work" && mkdir -p "$work"

if [ "$mode" = install ]; then
  cmake --install "$build" --prefix "$work/prefix" >"$work/install.log"
  package="$work/prefix/lib/cmake/difflab"
  difflab="$work/prefix/bin/difflab"
  # The installed core must find its own plugins beside itself, not the build tree's.
  test -f "$work/prefix/lib/difflab/difflab_diagnostics.so"
else
  package="$build"
  difflab="$build/bin/difflab"
fi

cmake -S "$source/tests/consumer" -B "$work/consumer" -G Ninja -Ddifflab_DIR="$package" >"$work/configure.log"
cmake --build "$work/consumer" >"$work/build.log"
export DIFFLAB_PLUGIN_PATH="$work/consumer"

"$difflab" plugins >"$work/plugins.txt"
grep -q "^consumer_demo 0.1.0  $work/consumer/difflab_consumer_demo.so$" "$work/plugins.txt"
grep -q "  task/greeting — Writes a greeting into the run directory.$" "$work/plugins.txt"
grep -q "^diagnostics " "$work/plugins.txt"  # the core's own plugins still load

"$difflab" run "$source/tests/consumer/experiment.yaml" --output "$work/runs" --quiet
test "$(cat "$work/runs/consumer_demo/greeting.txt")" = "$(printf 'hi from outside\nhi from outside\nhi from outside')"
echo "consumer plugin built against the $mode, listed and run"
