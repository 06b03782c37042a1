#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Writes each fenced code block of a Markdown file that follows a line `<!-- file: NAME -->`
# into DIR/NAME, so that a walkthrough's code can be built and compared with its test files.
# usage: doc_blocks.sh DOC.md DIR
set -euo pipefail
doc=$1 dir=$2
mkdir -p "$dir"
awk -v dir="$dir" '
  /^<!-- file: [A-Za-z0-9_.]+ -->$/ { name = $3; next }
  name != "" && !inside && /^```/ { inside = 1; out = dir "/" name; printf "" > out; next }
  inside && /^```$/ { inside = 0; close(out); name = ""; next }
  inside { print > out }
' "$doc"
