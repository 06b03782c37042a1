// SPDX-License-Identifier: Apache-2.0
// Line plots for reports: the data always as CSV, the picture as PNG when gnuplot is installed.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace difflab {

/// One line of a plot.
struct plot_series {
    std::string label;
    std::vector<double> x, y;
};

struct plot_options {
    std::string title;
    std::string x_label;
    std::string y_label;
    bool log_x = false;
    bool log_y = false;
};

/// Writes `base`.csv (columns series,x,y) and, when gnuplot is on the PATH, `base`.png.
/// Points that a log axis cannot show (y <= 0, NaN) stay in the CSV and are
/// left out of the picture. Both files are written atomically. Returns whether the PNG was
/// made; a gnuplot failure is an error naming its log.
bool write_line_plot(const std::filesystem::path& base, const std::vector<plot_series>& series,
                     const plot_options& options);

/// Whether gnuplot can be run.
bool gnuplot_available();

}  // namespace difflab
