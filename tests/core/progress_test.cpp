// SPDX-License-Identifier: Apache-2.0
// Tests of the progress bar: duration format and plain log lines off a terminal.
#include <difflab/base/progress.h>
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace {

/// Captures what is written to stderr (fd 2) while alive.
class stderr_capture {
public:
    stderr_capture() : file_(std::tmpfile()), saved_(::dup(2)) {
        std::fflush(stderr);
        ::dup2(::fileno(file_), 2);
    }
    ~stderr_capture() {
        restore();
        std::fclose(file_);
    }
    std::string text() {
        restore();
        std::string out;
        std::rewind(file_);
        for (int c = std::fgetc(file_); c != EOF; c = std::fgetc(file_)) out += static_cast<char>(c);
        return out;
    }

private:
    void restore() {
        if (saved_ < 0) return;
        std::fflush(stderr);
        ::dup2(saved_, 2);
        ::close(saved_);
        saved_ = -1;
    }
    std::FILE* file_;
    int saved_;
};

}  // namespace

TEST_CASE("durations read as seconds, minutes or hours") {
    CHECK(difflab::progress_bar::format_duration(12.2) == "12s");
    CHECK(difflab::progress_bar::format_duration(99) == "1m39s");
    CHECK(difflab::progress_bar::format_duration(7500) == "2h05m");
}

TEST_CASE("off a terminal the bar writes one plain line per tenth, not one per step") {
    stderr_capture capture;  // stderr is a file here, as in CI logs
    {
        difflab::progress_bar bar("training", 1000);
        for (int i = 1; i <= 1000; ++i) bar.update(i, "loss 0.0412");
    }
    const std::string text = capture.text();
    std::istringstream lines(text);
    std::string line, last;
    int count = 0;
    while (std::getline(lines, line)) {
        ++count;
        CHECK(line.rfind("training  ", 0) == 0);
        CHECK(line.find("█") == std::string::npos);  // no bar characters in logs
        last = line;
    }
    CHECK(count == 10);
    CHECK(last.find("1000/1000  loss 0.0412") != std::string::npos);
    CHECK(last.find(" in ") != std::string::npos);
}
