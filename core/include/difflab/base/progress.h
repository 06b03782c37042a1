// SPDX-License-Identifier: Apache-2.0
// Progress of long loops: a redrawn bar on a terminal, periodic plain lines otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace difflab {

/// `training  ████████████░░░░░░░░  612/1000  loss 0.0412  3.9 it/s  eta 1m39s`
/// On a terminal (stderr is a tty) the line is redrawn at most ten times a second; otherwise
/// a plain log line is written every 10% or 30 seconds, so CI logs stay short.
class progress_bar {
public:
    /// `first`: work already done before this bar started (a resumed run), left out of the rate.
    progress_bar(std::string label, std::int64_t total, std::int64_t first = 0);
    progress_bar(const progress_bar&) = delete;
    progress_bar& operator=(const progress_bar&) = delete;
    ~progress_bar();

    /// Reports `done` of total finished, with a short status ("loss 0.0412").
    void update(std::int64_t done, const std::string& status = "");
    /// Ends the bar (draws the final state once).
    void finish();

    /// "1m39s", "2h05m", "12s".
    static std::string format_duration(double seconds);

private:
    std::string line(std::int64_t done, const std::string& status, bool bar) const;

    std::string label_;
    std::int64_t total_;
    std::int64_t first_ = 0;
    std::int64_t done_ = 0;
    std::string status_;
    bool terminal_;
    bool finished_ = false;
    std::chrono::steady_clock::time_point start_, last_draw_;
    std::int64_t last_logged_tenth_ = 0;
};

}  // namespace difflab
