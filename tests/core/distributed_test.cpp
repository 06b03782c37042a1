// SPDX-License-Identifier: Apache-2.0
// How work is split between ranks, and the single-process identities of base/distributed.h
// (the MPI job itself is tested through mpirun in tests/cli/distributed_run_test.cpp).
#include <difflab/base/distributed.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

using namespace difflab;

TEST_CASE("share_of splits a count into contiguous runs of whole blocks, rank 0 first") {
    for (std::int64_t count : {1, 7, 16, 64, 65}) {
        for (std::int64_t granule : {1, 2, 4, 64}) {
            for (int ranks : {1, 2, 3, 5}) {
                CAPTURE(count);
                CAPTURE(granule);
                CAPTURE(ranks);
                std::int64_t next = 0, most = 0, least = count;
                for (int r = 0; r < ranks; ++r) {
                    const distributed::share_range s = distributed::share_of(count, granule, r, ranks);
                    CHECK(s.begin == next);  // contiguous, in rank order
                    CHECK(s.end >= s.begin);
                    CHECK((s.begin % granule == 0 || s.begin == count));  // whole blocks
                    next = s.end;
                    const std::int64_t blocks = (s.size() + granule - 1) / granule;
                    most = std::max(most, blocks);
                    least = std::min(least, blocks);
                }
                CHECK(next == count);
                CHECK(most - least <= 1);  // as even as whole blocks allow
                CHECK(distributed::share_of(count, granule, 0, ranks).size() > 0);
            }
        }
    }
    CHECK(distributed::share_of(16, 1, 1, 2).begin == 8);
    CHECK(distributed::share_of(7, 2, 2, 3).begin == 6);  // blocks of 2: [0, 4), [4, 6), [6, 7)
    CHECK(distributed::share_of(7, 2, 0, 3).end == 4);
}

TEST_CASE("without an MPI launcher a process is a job of one rank and the collectives are identities") {
    CHECK(distributed::rank() == 0);
    CHECK(distributed::size() == 1);
    CHECK(distributed::is_root());
    CHECK(distributed::log_prefix().empty());
    CHECK(distributed::share(10, 3).begin == 0);
    CHECK(distributed::share(10, 3).end == 10);
    std::vector<float> values{1.5f, -2.0f};
    distributed::sum_in_rank_order(values);
    CHECK(values == std::vector<float>{1.5f, -2.0f});
    CHECK(distributed::gather_all(std::vector<double>{3.0}) == std::vector<double>{3.0});
}
