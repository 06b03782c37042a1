// SPDX-License-Identifier: Apache-2.0
// The caching allocator of tensor storage: freed blocks kept per size, up to a limit.
#include <difflab/tensor/storage_cache.h>

#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace difflab {

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool sanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool sanitized = true;
#else
constexpr bool sanitized = false;
#endif
#else
constexpr bool sanitized = false;
#endif

constexpr std::size_t alignment = 64;

std::size_t default_limit() {
    if (const char* mb = std::getenv("DIFFLAB_STORAGE_CACHE_MB"); mb != nullptr && *mb != '\0') {
        try {
            return static_cast<std::size_t>(std::stoull(mb)) << 20;
        } catch (const std::exception&) {
            // an unreadable value keeps the default
        }
    }
    return sanitized ? 0 : std::size_t{1} << 30;
}

class block_cache {
public:
    void* take(std::size_t bytes) {
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            const auto blocks = free_.find(bytes);
            if (blocks != free_.end() && !blocks->second.empty()) {
                void* block = blocks->second.back();
                blocks->second.pop_back();
                cached_ -= bytes;
                ++hits_;
                return block;
            }
            ++misses_;
        }
        return std::aligned_alloc(alignment, bytes);
    }

    void give(void* block, std::size_t bytes) {
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            if (bytes <= limit_) {
                if (cached_ + bytes > limit_) empty_locked();
                free_[bytes].push_back(block);
                cached_ += bytes;
                return;
            }
        }
        std::free(block);
    }

    void set_limit(std::size_t bytes) {
        const std::lock_guard<std::mutex> lock(mutex_);
        limit_ = bytes;
        if (cached_ > limit_) empty_locked();
    }

    std::size_t limit() {
        const std::lock_guard<std::mutex> lock(mutex_);
        return limit_;
    }

    void empty() {
        const std::lock_guard<std::mutex> lock(mutex_);
        empty_locked();
    }

    storage_cache_statistics statistics() {
        const std::lock_guard<std::mutex> lock(mutex_);
        return {cached_, hits_, misses_};
    }

private:
    void empty_locked() {
        for (auto& [bytes, blocks] : free_)
            for (void* block : blocks) std::free(block);
        free_.clear();
        cached_ = 0;
    }

    std::mutex mutex_;
    std::unordered_map<std::size_t, std::vector<void*>> free_;  ///< block size -> freed blocks
    std::size_t cached_ = 0;
    std::size_t limit_ = default_limit();
    std::size_t hits_ = 0;
    std::size_t misses_ = 0;
};

/// Never destroyed: tensors in static storage are freed after every other static object.
block_cache& cache() {
    static block_cache* const instance = new block_cache;
    return *instance;
}

}  // namespace

void set_storage_cache_limit(std::size_t bytes) {
    cache().set_limit(bytes);
}

std::size_t storage_cache_limit() {
    return cache().limit();
}

void release_storage_cache() {
    cache().empty();
}

storage_cache_statistics storage_cache_stats() {
    return cache().statistics();
}

void* allocate_storage_block(std::size_t bytes) {
    return cache().take(bytes);
}

void free_storage_block(void* block, std::size_t bytes) {
    if (block != nullptr) cache().give(block, bytes);
}

}  // namespace difflab
