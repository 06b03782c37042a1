#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# One command for the op benchmarks: builds, measures the fp32 peak, runs difflab beside PyTorch.
#
#   tools/bench/ops.sh [--threads N] [--peak GFLOPS] [--cpu-time] [--seconds S] [--only NAME]
#
# Build directory: $DIFFLAB_BUILD_DIR (default build/). PyTorch is Debian's python3-torch
# (/usr/bin/python3), whose matrix multiplies go to the reference BLAS as installed; this
# script points it at Debian's OpenBLAS (libopenblas0-pthread) instead, as the table says.
# --cpu-time (with --threads 1) times thread CPU time: use it on a machine shared with builds,
# with --peak set to the quiet machine's per-core fp32 peak (peak_flops is wall-clock timed,
# so other jobs lower it).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${DIFFLAB_BUILD_DIR:-$root/build}
threads=$(nproc)
peak=
args=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --threads) threads=$2; shift 2 ;;
    --peak) peak=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done

# PyTorch for the comparison, OpenBLAS for its matrix multiplies.
"$root/tools/install-packages" python3-torch libopenblas0-pthread
if [[ ! -f $build/build.ninja && ! -f $build/Makefile ]]; then
  if [[ $build == "$root/build" ]]; then
    "$root/tools/setup" >&2
  else
    echo "ops.sh: error: no build in $build; configure it or leave DIFFLAB_BUILD_DIR unset" >&2
    exit 2
  fi
fi
cmake --build "$build" --target ops_bench peak_flops >/dev/null

if [[ -z $peak ]]; then
  peak=$("$build/bin/peak_flops" --threads "$threads" --repeats 3 |
    awk -v t="$threads" '/^fp32 FMA/ && $(NF-2) == t { print $(NF-1) }')
fi
if [[ -z $peak ]]; then
  echo "ops.sh: error: could not read the fp32 peak from peak_flops" >&2
  exit 1
fi

openblas=$(dpkg -L libopenblas0-pthread 2>/dev/null | grep '/libblas\.so\.3$' | head -n1 || true)
if [[ -n $openblas ]]; then
  export LD_LIBRARY_PATH=$(dirname "$openblas")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  export DIFFLAB_TORCH_BLAS="OpenBLAS ($openblas)"
else
  echo "ops.sh: warning: libopenblas0-pthread is not installed; PyTorch keeps the reference BLAS" >&2
fi

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u +%Y-%m-%d)"
exec /usr/bin/python3 "$root/tools/bench/ops_compare.py" --bench "$build/bin/ops_bench" --peak "$peak" \
  --threads "$threads" "${args[@]}"
