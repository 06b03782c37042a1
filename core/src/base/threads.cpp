// SPDX-License-Identifier: Apache-2.0
// Thread count shared by oneDNN (OpenMP runtime in Debian's build) and the engine's loops.
#include <difflab/base/threads.h>
#include <omp.h>

namespace difflab {

void set_thread_count(int threads) {
    omp_set_num_threads(threads > 0 ? threads : omp_get_num_procs());
}

int thread_count() {
    return omp_get_max_threads();
}

}  // namespace difflab
