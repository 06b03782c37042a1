// SPDX-License-Identifier: Apache-2.0
// ELF checks of a plugin file before dlopen.
#include <difflab/base/error.h>
#include <difflab/plugin/library_file.h>
#include <elf.h>
#include <fmt/format.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

namespace difflab {

namespace {

#if defined(__x86_64__)
constexpr Elf64_Half host_machine = EM_X86_64;
#elif defined(__aarch64__)
constexpr Elf64_Half host_machine = EM_AARCH64;
#else
#error "difflab's plugin check knows x86-64 and AArch64; add this machine's EM_ constant"
#endif

[[noreturn]] void refuse(const std::filesystem::path& library, const std::string& what) {
    throw config_error(source_mark{library.string()}, "not a loadable plugin library: " + what,
                       {"remove it from the plugin path, or rebuild it with difflab_add_plugin()"});
}

/// Whether [offset, offset + count * size) lies inside a file of `file_size` bytes, without overflow.
bool inside(std::uint64_t offset, std::uint64_t count, std::uint64_t size, std::uint64_t file_size) {
    if (offset > file_size) return false;
    return size == 0 || count <= (file_size - offset) / size;
}

}  // namespace

void check_library_file(const std::filesystem::path& library) {
    std::ifstream in(library, std::ios::binary);
    if (!in) refuse(library, "cannot be opened");
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::uint64_t size = bytes.size();
    Elf64_Ehdr header;
    if (size < sizeof header || std::memcmp(bytes.data(), ELFMAG, SELFMAG) != 0) refuse(library, "it is no ELF file");
    std::memcpy(&header, bytes.data(), sizeof header);
    if (header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_ident[EI_DATA] != ELFDATA2LSB)
        refuse(library, "it is not a 64-bit little-endian ELF file");
    if (header.e_machine != host_machine)
        refuse(library, fmt::format("it was built for another machine (ELF machine {}, this one is {})",
                                    header.e_machine, host_machine));
    if (header.e_type != ET_DYN) refuse(library, "it is not a shared object");
    if (header.e_phentsize != sizeof(Elf64_Phdr) || header.e_phnum == 0 ||
        !inside(header.e_phoff, header.e_phnum, sizeof(Elf64_Phdr), size))
        refuse(library, "its program header table is missing or reaches past the end of the file (truncated?)");
    if (header.e_shnum > 0 &&
        (header.e_shentsize != sizeof(Elf64_Shdr) || !inside(header.e_shoff, header.e_shnum, sizeof(Elf64_Shdr), size)))
        refuse(library,
               fmt::format("its section header table reaches past the end of the file, {} bytes (truncated?)", size));
    for (Elf64_Half i = 0; i < header.e_phnum; ++i) {
        Elf64_Phdr segment;
        std::memcpy(&segment, bytes.data() + header.e_phoff + i * sizeof(Elf64_Phdr), sizeof segment);
        if ((segment.p_type == PT_LOAD || segment.p_type == PT_DYNAMIC) &&
            !inside(segment.p_offset, 1, segment.p_filesz, size))
            refuse(library, fmt::format("segment {} ends past the end of the file, {} bytes (truncated?)", i, size));
    }
}

}  // namespace difflab
