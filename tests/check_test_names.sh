#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fails when a doctest TEST_CASE name holds a ';'. doctest_discover_tests registers each test case
# with CTest under its name, and CMake splits lists at ';': such a test is registered under the
# name's first part, which matches no test case, so CTest runs nothing and reports it passed
# (26 test cases had never run that way).
# usage: check_test_names.sh SOURCE_DIR
set -euo pipefail
cd "$1"
found=$(find core plugins tests tools -name '*.cpp' -print0 | xargs -0 perl -0777 -ne '
  while (/TEST_CASE\(((?:\s*"(?:[^"\\]|\\.)*")+)/g) {
    (my $name = $1) =~ s/"\s*"//g;
    print "$ARGV: TEST_CASE($name)\n" if $name =~ /;/;
  }')
if [ -n "$found" ]; then
  echo "test case names with ';' (CTest would run none of them; use ',' instead):" >&2
  echo "$found" >&2
  exit 1
fi
echo "no test case name holds ';'"
