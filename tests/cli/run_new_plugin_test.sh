#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `difflab new-plugin` output builds, passes its own test, loads and runs as written.
# usage: run_new_plugin_test.sh DIFFLAB_BUILD_DIR WORK_DIR
set -euo pipefail
build=$1 work=$2
difflab="$build/bin/difflab"
rm -rf "$work" && mkdir -p "$work"

# Every kind the CLI knows (component_kinds), as its refusal of an unknown kind lists them.
kinds=$("$difflab" new-plugin probe --kind none --dir "$work/probe" 2>&1 | sed -n 's/^    kinds: //p' | tr -d ',' || true)
test "$(echo $kinds | wc -w)" -ge 7

for kind in $kinds; do
  dir="$work/my_$kind"
  "$difflab" new-plugin "my_$kind" --kind "$kind" --dir "$dir" --quiet
  cmake -S "$dir" -B "$dir/build" -G Ninja -Ddifflab_DIR="$build" >"$work/$kind.configure.log"
  cmake --build "$dir/build" >"$work/$kind.build.log"
  ctest --test-dir "$dir/build" --output-on-failure >"$work/$kind.ctest.log"
  grep -q "100% tests passed" "$work/$kind.ctest.log"
  # The sampler's scaffold is a grid sampler (steps, spacing, eta); the others show `repeat`.
  option="^  repeat +int +1 "
  [ "$kind" = sampler ] && option="^  steps +int +50 "
  DIFFLAB_PLUGIN_PATH="$dir/build" "$difflab" describe "$kind/my_$kind" >"$work/$kind.describe.txt"
  grep -Eq "$option" "$work/$kind.describe.txt"
done

DIFFLAB_PLUGIN_PATH="$work/my_task/build" "$difflab" run "$work/my_task/experiment.yaml" --output "$work/runs" --quiet
test "$(cat "$work/runs/my_task_demo/my_task.txt")" = "$(printf 'hello\nhello')"

# A second scaffold into a non-empty directory is refused.
if "$difflab" new-plugin other --kind task --dir "$work/my_task" 2>"$work/refused.txt"; then exit 1; fi
grep -q "error: directory exists and is not empty" "$work/refused.txt"
echo "new-plugin scaffolds for $(echo $kinds) built, tested and loaded; the task ran"
