// SPDX-License-Identifier: Apache-2.0
// "Did you mean" suggestions for misspelled keys and names.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace difflab {

/// Optimal-string-alignment edit distance (a transposition counts as one edit).
std::size_t edit_distance(const std::string& a, const std::string& b);

/// The closest candidate when it is close enough to be a likely typo, else nothing.
std::optional<std::string> closest_match(const std::string& word, const std::vector<std::string>& candidates);

/// "; did you mean 'x'?" or "" when nothing is close.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

/// Joins with ", " (the "valid keys: ..." lines).
std::string join(const std::vector<std::string>& items, const std::string& separator = ", ");

}  // namespace difflab
