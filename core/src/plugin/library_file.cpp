// SPDX-License-Identifier: Apache-2.0
// ELF checks of a plugin file before dlopen.
#include <difflab/base/error.h>
#include <difflab/plugin/library_file.h>
#include <elf.h>
#include <fmt/format.h>

#include <cstring>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

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
    // Only the headers are read: a plugin built with sanitizers and debug information is tens of
    // megabytes, and every difflab command checks every plugin.
    std::ifstream in(library, std::ios::binary);
    if (!in) refuse(library, "cannot be opened");
    std::error_code size_error;
    const std::uint64_t size = std::filesystem::file_size(library, size_error);
    if (size_error) refuse(library, "its size cannot be read: " + size_error.message());
    const auto read_at = [&](std::uint64_t offset, void* into, std::size_t count) {
        in.seekg(static_cast<std::streamoff>(offset));
        in.read(static_cast<char*>(into), static_cast<std::streamsize>(count));
        if (!in) refuse(library, fmt::format("{} bytes at offset {} cannot be read (truncated?)", count, offset));
    };
    Elf64_Ehdr header;
    if (size < sizeof header) refuse(library, "it is no ELF file");
    read_at(0, &header, sizeof header);
    if (std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0) refuse(library, "it is no ELF file");
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
    std::vector<Elf64_Phdr> segments(header.e_phnum);
    read_at(header.e_phoff, segments.data(), segments.size() * sizeof(Elf64_Phdr));
    for (std::size_t i = 0; i < segments.size(); ++i)
        if ((segments[i].p_type == PT_LOAD || segments[i].p_type == PT_DYNAMIC) &&
            !inside(segments[i].p_offset, 1, segments[i].p_filesz, size))
            refuse(library, fmt::format("segment {} ends past the end of the file, {} bytes (truncated?)", i, size));
}

}  // namespace difflab
