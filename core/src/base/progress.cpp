// SPDX-License-Identifier: Apache-2.0
// A progress bar that degrades to periodic log lines off a terminal.
#include <difflab/base/log.h>
#include <difflab/base/progress.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace difflab {

namespace {
constexpr int bar_width = 20;
constexpr double redraw_seconds = 0.1;
constexpr double log_seconds = 30.0;
}  // namespace

progress_bar::progress_bar(std::string label, std::int64_t total, std::int64_t first)
    : label_(std::move(label)),
      total_(total > 0 ? total : 1),
      first_(first),
      done_(first),
      terminal_(isatty(fileno(stderr)) != 0 && current_log_level() >= log_level::info),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

progress_bar::~progress_bar() {
    finish();
}

std::string progress_bar::format_duration(double seconds) {
    const auto s = static_cast<long long>(seconds + 0.5);
    if (s >= 3600) return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
    if (s >= 60) return fmt::format("{}m{:02}s", s / 60, s % 60);
    return fmt::format("{}s", s);
}

std::string progress_bar::line(std::int64_t done, const std::string& status, bool bar) const {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double rate = elapsed > 0 ? static_cast<double>(done - first_) / elapsed : 0.0;
    std::string out = label_ + "  ";
    if (bar) {
        const auto filled = static_cast<int>(bar_width * done / total_);
        for (int i = 0; i < bar_width; ++i) out += i < filled ? "█" : "░";
        out += "  ";
    }
    out += fmt::format("{}/{}", done, total_);
    if (!status.empty()) out += "  " + status;
    out += rate >= 1.0 ? fmt::format("  {:.1f} it/s", rate) : fmt::format("  {:.2f} s/it", rate > 0 ? 1.0 / rate : 0.0);
    if (done < total_ && rate > 0)
        out += "  eta " + format_duration(static_cast<double>(total_ - done) / rate);
    else if (done >= total_)
        out += "  in " + format_duration(elapsed);
    return out;
}

void progress_bar::update(std::int64_t done, const std::string& status) {
    done_ = done;
    status_ = status;
    const auto now = std::chrono::steady_clock::now();
    const double since_draw = std::chrono::duration<double>(now - last_draw_).count();
    if (terminal_) {
        if (since_draw < redraw_seconds && done < total_) return;
        std::fprintf(stderr, "\r\033[K%s", line(done, status, true).c_str());
        std::fflush(stderr);
        last_draw_ = now;
        return;
    }
    const std::int64_t tenth = 10 * done / total_;
    if (tenth > last_logged_tenth_ || since_draw >= log_seconds) {
        last_logged_tenth_ = tenth;
        last_draw_ = now;
        log_info("{}", line(done, status, false));
    }
}

void progress_bar::finish() {
    if (finished_) return;
    finished_ = true;
    if (terminal_) {
        std::fprintf(stderr, "\r\033[K%s\n", line(done_, status_, true).c_str());
        std::fflush(stderr);
    }
}

}  // namespace difflab
