// SPDX-License-Identifier: Apache-2.0
// Line plots: CSV always, PNG through gnuplot when it is installed.
#include <difflab/base/distributed.h>
#include <difflab/base/error.h>
#include <difflab/io/atomic_file.h>
#include <difflab/io/plot.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

extern char** environ;

namespace difflab {

namespace fs = std::filesystem;

namespace {

/// A string as a gnuplot double-quoted literal.
std::string quoted(const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

/// A CSV field, quoted when it holds a comma or a quote.
std::string csv_field(const std::string& text) {
    if (text.find_first_of(",\"\n") == std::string::npos) return text;
    std::string out = "\"";
    for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

/// Runs gnuplot on `script`, its output going to `log`; returns its exit status.
int run_gnuplot(const fs::path& script, const fs::path& log) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    std::string program = "gnuplot", path = script.string();
    char* argv[] = {program.data(), path.data(), nullptr};
    pid_t pid = 0;
    const int spawned = posix_spawnp(&pid, "gnuplot", &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) return -1;
    int status = 0;
    if (waitpid(pid, &status, 0) < 0) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

bool gnuplot_available() {
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path ? path : "");
    for (std::string dir; std::getline(dirs, dir, ':');)
        if (!dir.empty() && access((fs::path(dir) / "gnuplot").c_str(), X_OK) == 0) return true;
    return false;
}

bool write_line_plot(const fs::path& base, const std::vector<plot_series>& series, const plot_options& options) {
    std::string csv = "series,x,y\n";
    for (const plot_series& s : series)
        for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
            csv += fmt::format("{},{:.9g},{:.9g}\n", csv_field(s.label), s.x[i], s.y[i]);
    write_file_atomically(fs::path(base).concat(".csv"), csv);
    // gnuplot writes its own temporary file: only the rank that writes files runs it.
    if (!gnuplot_available() || !distributed::is_root()) return false;

    // The data goes inline as gnuplot datablocks, so the script is the whole recipe.
    std::string script = "set terminal png size 1280,640 font \",9\"\n";
    const fs::path png = fs::path(base).concat(".png"), temp = fs::path(base).concat(".png.tmp");
    script += fmt::format("set output {}\n", quoted(temp.string()));
    script += fmt::format("set title {} noenhanced\nset xlabel {} noenhanced\nset ylabel {} noenhanced\n",
                          quoted(options.title), quoted(options.x_label), quoted(options.y_label));
    if (options.log_x) script += "set logscale x\n";
    if (options.log_y) script += "set logscale y\n";
    script += "set key outside right top Left reverse noenhanced\nset grid\n";
    std::string plots;
    for (std::size_t k = 0; k < series.size(); ++k) {
        script += fmt::format("$series{} << EOD\n", k);
        bool any = false;
        for (std::size_t i = 0; i < series[k].x.size() && i < series[k].y.size(); ++i) {
            const double x = series[k].x[i], y = series[k].y[i];
            if (!std::isfinite(x) || !std::isfinite(y) || (options.log_x && x <= 0) || (options.log_y && y <= 0))
                continue;
            script += fmt::format("{:.9g} {:.9g}\n", x, y);
            any = true;
        }
        script += "EOD\n";
        if (any)
            plots += fmt::format("{}$series{} using 1:2 with linespoints title {}", plots.empty() ? "" : ", ", k,
                                 quoted(series[k].label));
    }
    if (plots.empty()) return false;  // nothing a picture could show; the CSV says why
    script += "plot " + plots + "\n";
    const fs::path script_path = fs::path(base).concat(".gnuplot"), log = fs::path(base).concat(".gnuplot.log");
    write_file_atomically(script_path, script);
    const int status = run_gnuplot(script_path, log);
    if (status != 0) {
        fs::remove(temp);
        throw error(fmt::format("gnuplot failed (status {}) drawing {}; see {}", status, png.string(), log.string()));
    }
    fs::rename(temp, png);
    fs::remove(log);
    fs::remove(script_path);
    return true;
}

}  // namespace difflab
