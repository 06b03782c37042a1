// SPDX-License-Identifier: Apache-2.0
// The MPI job a process belongs to: Open MPI's C API where the build has it, one rank otherwise.
#include <difflab/base/distributed.h>
#include <difflab/base/log.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string>

#ifdef DIFFLAB_HAVE_MPI
#include <mpi.h>
#endif

namespace difflab::distributed {

namespace {

int world_rank = 0;
int world_size = 1;
int machine_ranks = 1;
#ifdef DIFFLAB_HAVE_MPI
bool joined = false;  ///< MPI_Init was called (and MPI_Finalize not yet)
#endif

bool has_env(const char* name) {
    const char* value = std::getenv(name);
    return value != nullptr && *value != '\0';
}

int env_int(const char* name, int fallback) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') return fallback;
    try {
        return std::max(1, std::stoi(value));
    } catch (const std::exception&) {
        return fallback;
    }
}

#ifdef DIFFLAB_HAVE_MPI
int checked_count(std::size_t n) {
    if (n > static_cast<std::size_t>(std::numeric_limits<int>::max()))
        throw std::length_error("distributed: a message of more than 2^31 elements");
    return static_cast<int>(n);
}

/// Gathers every rank's `mine` (of any length) in rank order, as `type`.
template <class T>
std::vector<T> gather_all_as(const std::vector<T>& mine, MPI_Datatype type) {
    if (!joined) return mine;
    std::vector<int> counts(static_cast<std::size_t>(world_size));
    const int count = checked_count(mine.size());
    MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD);
    std::vector<int> offsets(counts.size());
    std::size_t total = 0;
    for (std::size_t r = 0; r < counts.size(); ++r) {
        offsets[r] = checked_count(total);
        total += static_cast<std::size_t>(counts[r]);
    }
    std::vector<T> all(total);
    MPI_Allgatherv(mine.data(), count, type, all.data(), counts.data(), offsets.data(), type, MPI_COMM_WORLD);
    return all;
}

/// Reduce-scatter with MPI_Alltoall (rank r receives block r of every rank and sums it in rank
/// order), then MPI_Allgather of the summed blocks.
template <class T>
void sum_blocks_in_rank_order(std::vector<T>& values, MPI_Datatype type) {
    if (!joined || world_size == 1 || values.empty()) return;
    const std::size_t ranks = static_cast<std::size_t>(world_size);
    const std::size_t block = (values.size() + ranks - 1) / ranks;
    std::vector<T> padded(block * ranks, T(0));
    std::copy(values.begin(), values.end(), padded.begin());
    std::vector<T> received(block * ranks);
    MPI_Alltoall(padded.data(), checked_count(block), type, received.data(), checked_count(block), type,
                 MPI_COMM_WORLD);
    std::vector<T> summed(received.begin(), received.begin() + static_cast<std::ptrdiff_t>(block));
    for (std::size_t r = 1; r < ranks; ++r)
        for (std::size_t i = 0; i < block; ++i) summed[i] += received[r * block + i];
    MPI_Allgather(summed.data(), checked_count(block), type, padded.data(), checked_count(block), type, MPI_COMM_WORLD);
    std::copy(padded.begin(), padded.begin() + static_cast<std::ptrdiff_t>(values.size()), values.begin());
}
#endif

}  // namespace

void start(int& argc, char**& argv) {
    // Launchers announce themselves in the environment: Open MPI's mpirun, PMIx (srun
    // --mpi=pmix, prterun) and PMI-1/2 (MPICH's hydra, srun --mpi=pmi2). Without one of them
    // MPI_Init would start a singleton, which costs time and prints warnings for nothing.
    const bool launched = has_env("OMPI_COMM_WORLD_SIZE") || has_env("PMIX_RANK") || has_env("PMI_RANK");
#ifdef DIFFLAB_HAVE_MPI
    if (launched) {
        int provided = 0;
        // Only the main thread calls MPI; OpenMP's threads compute between the calls.
        MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
        MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
        MPI_Comm_size(MPI_COMM_WORLD, &world_size);
        joined = true;
        machine_ranks = env_int("OMPI_COMM_WORLD_LOCAL_SIZE", env_int("MPI_LOCALNRANKS", 1));
        if (world_rank != 0 && current_log_level() > log_level::warn) set_log_level(log_level::warn);
    }
#else
    (void)argc;
    (void)argv;
    if (launched && (env_int("OMPI_COMM_WORLD_SIZE", 1) > 1 || env_int("PMI_SIZE", 1) > 1)) {
        std::fprintf(stderr,
                     "error: this difflab was built without MPI, so each of the launcher's processes would run the "
                     "whole job alone; install libopenmpi-dev and rebuild (tools/setup; without -DDIFFLAB_MPI=OFF), or "
                     "run without mpirun\n");
        std::exit(2);
    }
#endif
}

void finish() {
#ifdef DIFFLAB_HAVE_MPI
    if (joined) MPI_Finalize();
    joined = false;
#endif
}

void abort_job(int exit_code) {
#ifdef DIFFLAB_HAVE_MPI
    if (joined && world_size > 1) MPI_Abort(MPI_COMM_WORLD, exit_code);
#endif
    finish();
    std::exit(exit_code);
}

int rank() {
    return world_rank;
}

int size() {
    return world_size;
}

int local_size() {
    return machine_ranks;
}

std::string log_prefix() {
    return world_size > 1 && world_rank != 0 ? "rank " + std::to_string(world_rank) + ": " : std::string();
}

void barrier() {
#ifdef DIFFLAB_HAVE_MPI
    if (joined && world_size > 1) MPI_Barrier(MPI_COMM_WORLD);
#endif
}

share_range share_of(std::int64_t count, std::int64_t granule, int r, int ranks) {
    granule = std::max<std::int64_t>(granule, 1);
    const std::int64_t blocks = (count + granule - 1) / granule;
    // The first `blocks % ranks` ranks take one block more, so rank 0 always holds block 0
    // (the batch whose trajectory a run draws).
    const std::int64_t base = blocks / ranks, extra = blocks % ranks;
    const std::int64_t first = r * base + std::min<std::int64_t>(r, extra);
    const std::int64_t last = first + base + (r < extra ? 1 : 0);
    return {std::min(count, first * granule), std::min(count, last * granule)};
}

share_range share(std::int64_t count, std::int64_t granule) {
    return share_of(count, granule, world_rank, world_size);
}

void sum_in_rank_order(std::vector<float>& values) {
#ifdef DIFFLAB_HAVE_MPI
    sum_blocks_in_rank_order(values, MPI_FLOAT);
#else
    (void)values;
#endif
}

void sum_in_rank_order(std::vector<double>& values) {
#ifdef DIFFLAB_HAVE_MPI
    sum_blocks_in_rank_order(values, MPI_DOUBLE);
#else
    (void)values;
#endif
}

std::vector<float> gather_all(const std::vector<float>& mine) {
#ifdef DIFFLAB_HAVE_MPI
    return gather_all_as(mine, MPI_FLOAT);
#else
    return mine;
#endif
}

std::vector<double> gather_all(const std::vector<double>& mine) {
#ifdef DIFFLAB_HAVE_MPI
    return gather_all_as(mine, MPI_DOUBLE);
#else
    return mine;
#endif
}

}  // namespace difflab::distributed
