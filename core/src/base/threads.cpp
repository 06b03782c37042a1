// SPDX-License-Identifier: Apache-2.0
// Thread count shared by oneDNN (OpenMP runtime in Debian's build) and the engine's loops.
#include <difflab/base/distributed.h>
#include <difflab/base/threads.h>
#include <omp.h>

#include <algorithm>

namespace difflab {

void set_thread_count(int threads) {
    // "All cores" is this rank's share of them when several ranks of an MPI job share the machine.
    const int cores = std::max(1, omp_get_num_procs() / distributed::local_size());
    omp_set_num_threads(threads > 0 ? threads : cores);
}

int thread_count() {
    return omp_get_max_threads();
}

}  // namespace difflab
