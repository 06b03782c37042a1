#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The code of "Writing a sampler" in docs/writing-a-plugin.md is the project in
# tests/euler_ancestral/, file for file (the scripts excepted).
# usage: check_doc_matches.sh SOURCE_DIR WORK_DIR
set -euo pipefail
source=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
bash "$source/tests/euler_ancestral/doc_blocks.sh" "$source/docs/writing-a-plugin.md" "$work/doc"
mkdir -p "$work/files"
for f in "$source"/tests/euler_ancestral/*; do
  case $f in *.sh) ;; *) cp "$f" "$work/files/" ;; esac
done
if ! diff -ru "$work/files" "$work/doc"; then
  echo "error: docs/writing-a-plugin.md differs from tests/euler_ancestral/ (diff above); edit both alike" >&2
  exit 1
fi
echo "the walkthrough's $(ls "$work/doc" | wc -l) files equal tests/euler_ancestral/"
