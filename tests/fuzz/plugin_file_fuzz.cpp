// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the plugin loader given a file that is not a valid plugin (written as
// difflab_fuzzed.so), up to the point where it would hand the file to the dynamic loader: the
// ELF checks of check_library_file. Past them glibc's dlopen reads the file, and it is not
// hardened against a malformed ELF (this target's first run crashed it in elf_dynamic_do_Rela
// with corrupt relocations: regressions/plugin_file/corrupt_relocations, which the checks pass).
#include <difflab/plugin/library_file.h>

#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::filesystem::path file = difflab::fuzz::scratch_directory() / "difflab_fuzzed.so";
    difflab::fuzz::write_file(file, std::string_view(reinterpret_cast<const char*>(data), size));
    return difflab::fuzz::expect_clear_errors([&] { difflab::check_library_file(file); });
}
