// SPDX-License-Identifier: Apache-2.0
// Data parallelism over the ranks of an MPI job (Open MPI), and the single process without one.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace difflab::distributed {

/// Joins the MPI job when the process was started by an MPI launcher (mpirun, mpiexec, srun:
/// one of OMPI_COMM_WORLD_SIZE, PMIX_RANK, PMI_RANK in the environment); otherwise, or in a
/// build without MPI, the process is a job of one rank and every function below is the
/// single-process identity. Ranks other than 0 log warnings and errors only, prefixed with
/// their rank. Call once, before any other function here.
void start(int& argc, char**& argv);
/// Leaves the MPI job (MPI_Finalize) after a successful run.
void finish();
/// Ends the whole job from this rank (MPI_Abort) with `exit_code`: the launcher stops every
/// other rank and names this one. A job of one rank exits.
[[noreturn]] void abort_job(int exit_code);

int rank();
int size();
/// Ranks on this machine (OMPI_COMM_WORLD_LOCAL_SIZE and its kin; 1 without MPI): threads are
/// split between them.
int local_size();
/// Whether this rank writes files and the log: rank 0.
inline bool is_root() {
    return rank() == 0;
}
/// "rank 1: " on ranks other than 0 of a job of several, else "".
std::string log_prefix();

/// Waits for every rank.
void barrier();

/// This rank's share [begin, end) of [0, count), in contiguous blocks of `granule` items
/// (batches, so that each batch is the one a single process forms), as even as the blocks
/// allow: of B blocks over P ranks each takes B / P, and ranks 0 to B % P - 1 one more, in
/// rank order.
struct share_range {
    std::int64_t begin = 0;
    std::int64_t end = 0;
    std::int64_t size() const { return end - begin; }
};
share_range share(std::int64_t count, std::int64_t granule = 1);
/// share() of rank `r` in a job of `ranks`.
share_range share_of(std::int64_t count, std::int64_t granule, int r, int ranks);

/// Sums `values` elementwise over the ranks, each sum taken in rank order 0, 1, ..., P - 1, so
/// that the result is the same on every rank and does not depend on timing (MPI_Allreduce
/// leaves the order to the implementation). Reduce-scatter then all-gather: each rank sends
/// and receives 2 (P - 1) / P of the buffer, as a ring all-reduce does.
void sum_in_rank_order(std::vector<float>& values);
/// The same in double, for a few values (losses, flags).
void sum_in_rank_order(std::vector<double>& values);

/// Every rank's `mine`, concatenated in rank order, on every rank.
std::vector<float> gather_all(const std::vector<float>& mine);
std::vector<double> gather_all(const std::vector<double>& mine);

}  // namespace difflab::distributed
