// SPDX-License-Identifier: Apache-2.0
// Reuse of freed tensor storage: a caching allocator for the engine's CPU buffers.
#pragma once

#include <cstddef>

namespace difflab {

/// Tensor storage keeps the blocks of freed tensors and hands them to the next tensor of the
/// same (64-byte rounded) size, as PyTorch's CUDA caching allocator does for device memory.
/// The training and sampling loops allocate the same shapes step after step; without the
/// cache glibc returns each large block to the kernel on free, and the next step pays for
/// zero-filled fresh pages again (the tiny U-Net's forward at batch 64 on 2 threads: 155-172 ms
/// without the cache, 142-144 ms with it; docs/performance.md).
///
/// At most `storage_cache_limit()` bytes are kept (default 1 GiB, or DIFFLAB_STORAGE_CACHE_MB
/// from the environment; 0 disables the cache, as sanitizer builds do by default so that a
/// use after free is still caught). Past the limit the longest-kept blocks go back to the
/// system first; the rest stay (emptying the whole cache there made the next step take all
/// its memory afresh from the system). While autograd records (grad_enabled()) a tensor gets
/// a block of its own size, as it may be saved for the backward; otherwise (sampling, the
/// backward pass) the smallest cached block up to twice its size serves it when none of its
/// size is free.
void set_storage_cache_limit(std::size_t bytes);
std::size_t storage_cache_limit();
/// Frees every cached block (what is in use stays).
void release_storage_cache();

struct storage_cache_statistics {
    std::size_t cached_bytes = 0;  ///< held for reuse now
    std::size_t hits = 0;          ///< allocations served from the cache, since the start
    std::size_t misses = 0;        ///< allocations that went to the system
};
storage_cache_statistics storage_cache_stats();

/// The storage class's allocation and release of a block of `bytes` (a multiple of 64),
/// 64-byte aligned; nullptr when the system has no memory left.
void* allocate_storage_block(std::size_t bytes);
void free_storage_block(void* block, std::size_t bytes);

}  // namespace difflab
