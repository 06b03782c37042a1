#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Debian package, as a user meets it: CPack builds difflab_<version>_<arch>.deb from the build
# tree; its control fields and file list are checked; it is unpacked into a fresh prefix outside
# the build tree (dpkg-deb -x: the files apt-get would install under /, here under a temporary
# root); the installed difflab reports the version of CMakeLists.txt, runs the installed
# quickstart from an unrelated directory (shortened by overrides) with a metric that needs the
# installed feature network, and an out-of-tree plugin builds with find_package(difflab VERSION)
# against it and runs, while a newer minor version is refused.
# usage: run_package_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
# Outputs are captured before grep -q reads them: `cmd | grep -q` fails under pipefail whenever
# grep exits before cmd has written everything (SIGPIPE).
build=$(cd "$1" && pwd) source=$(cd "$2" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/difflab-package-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "package test: $*" >&2; exit 1; }

version=$(sed -n 's/^project(difflab VERSION \([0-9.]*\) .*/\1/p' "$source/CMakeLists.txt")
[ -n "$version" ] || fail "no project(difflab VERSION ...) in $source/CMakeLists.txt"
arch=$(dpkg --print-architecture)

cpack --config "$build/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; fail "cpack failed"; }
deb="$work/out/difflab_${version}_${arch}.deb"
[ -f "$deb" ] || fail "expected $deb; cpack wrote: $(ls "$work/out")"

field() { dpkg-deb --field "$deb" "$1"; }
[ "$(field Package)" = difflab ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version: $(field Version), CMakeLists.txt says $version"
for dependency in libdnnl2 libyaml-cpp0.7 libboost-program-options1.74.0 libfmt9 libpng16-16 libgif7 libdnnl-dev; do
  tr ',' '\n' <<<"$(field Depends)" | grep -q "^ *$dependency\b" || fail "Depends lacks $dependency: $(field Depends)"
done
grep -q dataset-fashion-mnist <<<"$(field Recommends)" || fail "Recommends lacks dataset-fashion-mnist"
# A build with MPI: its engine links Open MPI's library, which the package must depend on.
if grep -q libmpi <<<"$(ldd "$build/lib/libdifflab_engine.so")"; then
  tr ',' '\n' <<<"$(field Depends)" | grep -q "^ *libopenmpi3\b" || fail "Depends lacks libopenmpi3: $(field Depends)"
fi
grep -q "^activate-noawait ldconfig$" <<<"$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./triggers)" ||
  fail "no ldconfig trigger in the control archive"

dpkg-deb -x "$deb" "$work/root"
usr="$work/root/usr"
for file in bin/difflab lib/libdifflab_core.so lib/libdifflab_engine.so lib/difflab/difflab_unet.so \
  include/difflab/base/version_number.h lib/cmake/difflab/difflabConfig.cmake \
  share/difflab/models/fmnist_classifier.safetensors share/difflab/experiments/quickstart.yaml \
  share/difflab/experiments/compare/samplers_fmnist.yaml share/doc/difflab/LICENSE \
  share/doc/difflab/copyright share/doc/difflab/README.md share/doc/difflab/docs/architecture.md; do
  [ -e "$usr/$file" ] || fail "the package lacks /usr/$file"
done
contents=$(dpkg-deb -c "$deb")
if grep -q -E '_tests$|/tests/|consumer_demo|test_noise' <<<"$contents"; then
  fail "test executables or fixture plugins in the package: $(grep -E '_tests$|/tests/|consumer_demo|test_noise' <<<"$contents" | head -3)"
fi

difflab="$usr/bin/difflab"
said=$("$difflab" --version)
grep -q "^difflab $version (plugin API " <<<"$said" || fail "difflab --version says: $said"
listed=$("$difflab" plugins)
grep -q "^unet $version  $usr/lib/difflab/difflab_unet.so$" <<<"$listed" ||
  fail "the installed plugins are not the package's: $(grep '^unet' <<<"$listed")"

mkdir "$work/elsewhere" && cd "$work/elsewhere"
"$difflab" run "$usr/share/difflab/experiments/quickstart.yaml" --quiet train.steps=2 train.checkpoint_every=2 \
  sample.count=4 sample.batch_size=4 sample.sampler.steps=3 evaluate.count=16 'evaluate.metrics=[inception_score]' \
  >"$work/run.log" 2>&1 || { cat "$work/run.log"; fail "the installed quickstart failed"; }
[ -f runs/quickstart/samples/grid.png ] || fail "no runs/quickstart/samples/grid.png"
grep -q '"inception_score"' runs/quickstart/metrics.json || fail "no inception_score in metrics.json"

cmake -S "$source/tests/consumer" -B "$work/consumer" -G Ninja -DCMAKE_PREFIX_PATH="$usr" \
  >"$work/configure.log" 2>&1 || { cat "$work/configure.log"; fail "consumer configure failed"; }
cmake --build "$work/consumer" >"$work/build.log" 2>&1 || { cat "$work/build.log"; fail "consumer build failed"; }
DIFFLAB_PLUGIN_PATH="$work/consumer" "$difflab" run "$source/tests/consumer/experiment.yaml" --output "$work/runs" --quiet
[ "$(head -1 "$work/runs/consumer_demo/greeting.txt")" = "hi from outside" ] || fail "the consumer plugin did not run"

# A plugin written for the next minor version (another plugin API) must not configure.
major=${version%%.*} minor=${version#*.}
minor=${minor%%.*}
newer="$major.$((minor + 1))"
mkdir "$work/newer"
printf 'cmake_minimum_required(VERSION 3.22)\nproject(newer LANGUAGES CXX)\nfind_package(difflab %s REQUIRED)\n' \
  "$newer" >"$work/newer/CMakeLists.txt"
if cmake -S "$work/newer" -B "$work/newer/build" -DCMAKE_PREFIX_PATH="$usr" >"$work/newer.log" 2>&1; then
  fail "find_package(difflab $newer) accepted difflab $version"
fi
grep -q "version: $version" "$work/newer.log" || fail "the refusal does not name the installed version: $(cat "$work/newer.log")"
echo "difflab_${version}_${arch}.deb: fields, files, --version, the installed quickstart and an out-of-tree plugin checked"
