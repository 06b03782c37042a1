#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `difflab new-plugin` output builds, passes its own test, loads and runs as written.
# usage: run_new_plugin_test.sh DIFFLAB_BUILD_DIR WORK_DIR
set -euo pipefail
build=$1 work=$2
difflab="$build/bin/difflab"
rm -rf "$work" && mkdir -p "$work"

for kind in task sampler process dataset noise network; do
  dir="$work/my_$kind"
  "$difflab" new-plugin "my_$kind" --kind "$kind" --dir "$dir" --quiet
  cmake -S "$dir" -B "$dir/build" -G Ninja -Ddifflab_DIR="$build" >"$work/$kind.configure.log"
  cmake --build "$dir/build" >"$work/$kind.build.log"
  ctest --test-dir "$dir/build" --output-on-failure >"$work/$kind.ctest.log"
  DIFFLAB_PLUGIN_PATH="$dir/build" "$difflab" describe "$kind/my_$kind" | grep -q "^  repeat   int     1"
done

DIFFLAB_PLUGIN_PATH="$work/my_task/build" "$difflab" run "$work/my_task/experiment.yaml" --output "$work/runs" --quiet
test "$(cat "$work/runs/my_task_demo/my_task.txt")" = "$(printf 'hello\nhello')"

# A second scaffold into a non-empty directory is refused.
if "$difflab" new-plugin other --kind task --dir "$work/my_task" 2>"$work/refused.txt"; then exit 1; fi
grep -q "error: directory exists and is not empty" "$work/refused.txt"
echo "new-plugin scaffolds for task, sampler, process and dataset built, tested, loaded and ran"
