// SPDX-License-Identifier: Apache-2.0
// The configuration tree: YAML values that remember the file, line and column they came from.
#pragma once

#include <difflab/base/error.h>

#include <string>
#include <vector>

namespace difflab {

/// A YAML value (null, scalar, sequence or ordered map) with its source position.
/// Experiment files are composed from several files and command-line overrides, so every
/// node carries its own file name; yaml-cpp nodes only know line and column.
class config_node {
public:
    enum class kind { null, scalar, sequence, map };

    struct entry;  // a map entry: key, where the key was written, value

    config_node() = default;
    static config_node scalar(std::string text, source_mark mark = {}, bool quoted = false);
    static config_node sequence(source_mark mark = {});
    static config_node map(source_mark mark = {});

    kind type() const { return kind_; }
    bool is_null() const { return kind_ == kind::null; }
    bool is_scalar() const { return kind_ == kind::scalar; }
    bool is_sequence() const { return kind_ == kind::sequence; }
    bool is_map() const { return kind_ == kind::map; }
    /// "null", "a scalar", "a list" or "a map": for error messages.
    std::string kind_text() const;

    const source_mark& mark() const { return mark_; }
    void set_mark(source_mark mark) { mark_ = std::move(mark); }

    // Scalars.
    const std::string& text() const { return text_; }
    /// True for a quoted YAML scalar ("1" is a string, 1 is not).
    bool quoted() const { return quoted_; }

    // Sequences.
    const std::vector<config_node>& items() const { return items_; }
    std::vector<config_node>& items() { return items_; }
    void push_back(config_node item) { items_.push_back(std::move(item)); }

    // Maps (insertion ordered).
    const std::vector<entry>& entries() const;
    std::vector<entry>& entries();
    /// The value under `key`, or nullptr.
    const config_node* find(const std::string& key) const;
    config_node* find(const std::string& key);
    /// Sets `key`, replacing its value in place or appending it.
    config_node& set(const std::string& key, config_node value, source_mark key_mark = {});
    bool erase(const std::string& key);
    /// Where `key` was written (the value's mark when unknown).
    source_mark key_mark(const std::string& key) const;
    std::vector<std::string> keys() const;

private:
    kind kind_ = kind::null;
    source_mark mark_;
    std::string text_;
    bool quoted_ = false;
    std::vector<config_node> items_;
    std::vector<entry> entries_;
};

struct config_node::entry {
    std::string key;
    source_mark key_mark;
    config_node value;
};

inline const std::vector<config_node::entry>& config_node::entries() const {
    return entries_;
}
inline std::vector<config_node::entry>& config_node::entries() {
    return entries_;
}

/// Copies the source positions of `written` onto the matching nodes of `resolved`, so that
/// errors raised after validation still point into the file.
void copy_marks(config_node& resolved, const config_node& written);

/// Parses YAML text; `file` names it in marks and errors.
config_node parse_yaml(const std::string& text, const std::string& file);
/// Reads and parses a YAML file (errors name the file, line and column).
config_node load_yaml_file(const std::string& path);
/// Writes the tree as block-style YAML.
std::string to_yaml(const config_node& node);
/// Whether two trees hold the same values: maps compared key by key whatever their order,
/// scalars by text, sequences item by item; source marks are ignored.
bool equivalent(const config_node& a, const config_node& b);
/// Writes the tree as one line of flow-style YAML: `{type: ddim, steps: 10}`.
std::string to_flow_yaml(const config_node& node);

}  // namespace difflab
