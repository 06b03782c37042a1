// SPDX-License-Identifier: Apache-2.0
// One thread count for oneDNN and the engine's own loops (both run on OpenMP).
#pragma once

namespace difflab {

/// Sets the number of threads; 0 means all cores (divided among the ranks of an MPI job on this
/// machine).
void set_thread_count(int threads);
int thread_count();

}  // namespace difflab
