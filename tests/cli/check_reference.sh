#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fails when docs/reference/ differs from what the loaded in-tree plugins describe.
# usage: check_reference.sh DIFFLAB_EXE DOCS_REFERENCE_DIR WORK_DIR
set -euo pipefail
difflab=$1 committed=$2 work=$3
rm -rf "$work"
unset DIFFLAB_PLUGIN_PATH
"$difflab" describe --all --markdown --output "$work" --quiet
if ! diff -ru "$committed" "$work"; then
  echo "docs/reference is stale: run tools/update-reference and commit the result" >&2
  exit 1
fi
echo "docs/reference matches difflab describe --all --markdown"
