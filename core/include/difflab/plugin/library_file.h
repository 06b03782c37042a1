// SPDX-License-Identifier: Apache-2.0
// The checks a plugin file passes before the system's dynamic loader sees it.
#pragma once

#include <filesystem>

namespace difflab {

/// Refuses, with a config_error naming the file, what cannot be a shared library for this
/// machine: no ELF header, another word size, byte order or machine, not a shared object, a
/// program or section header table or a segment reaching past the end of the file (a truncated
/// copy). The dynamic loader is not hardened against a malformed ELF file (fuzzing crashed
/// glibc's with corrupt relocations), and a plugin is code that runs in the process anyway: this
/// check catches the damage files meet in practice, not a crafted library.
void check_library_file(const std::filesystem::path& library);

}  // namespace difflab
