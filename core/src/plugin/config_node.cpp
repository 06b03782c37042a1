// SPDX-License-Identifier: Apache-2.0
// The configuration tree, read from and written to YAML with yaml-cpp.
#include <difflab/plugin/config_node.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

namespace difflab {

config_node config_node::scalar(std::string text, source_mark mark, bool quoted) {
    config_node n;
    n.kind_ = kind::scalar;
    n.text_ = std::move(text);
    n.mark_ = std::move(mark);
    n.quoted_ = quoted;
    return n;
}

config_node config_node::sequence(source_mark mark) {
    config_node n;
    n.kind_ = kind::sequence;
    n.mark_ = std::move(mark);
    return n;
}

config_node config_node::map(source_mark mark) {
    config_node n;
    n.kind_ = kind::map;
    n.mark_ = std::move(mark);
    return n;
}

std::string config_node::kind_text() const {
    switch (kind_) {
        case kind::null:
            return "nothing";
        case kind::scalar:
            return "'" + text_ + "'";
        case kind::sequence:
            return "a list";
        case kind::map:
            return "a map";
    }
    return {};
}

const config_node* config_node::find(const std::string& key) const {
    for (const entry& e : entries_)
        if (e.key == key) return &e.value;
    return nullptr;
}

config_node* config_node::find(const std::string& key) {
    for (entry& e : entries_)
        if (e.key == key) return &e.value;
    return nullptr;
}

config_node& config_node::set(const std::string& key, config_node value, source_mark key_mark) {
    if (kind_ == kind::null) kind_ = kind::map;
    for (entry& e : entries_) {
        if (e.key == key) {
            e.value = std::move(value);
            if (key_mark.known()) e.key_mark = std::move(key_mark);
            return e.value;
        }
    }
    entries_.push_back({key, std::move(key_mark), std::move(value)});
    return entries_.back().value;
}

bool config_node::erase(const std::string& key) {
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (it->key == key) {
            entries_.erase(it);
            return true;
        }
    }
    return false;
}

source_mark config_node::key_mark(const std::string& key) const {
    for (const entry& e : entries_)
        if (e.key == key) return e.key_mark.known() ? e.key_mark : e.value.mark();
    return mark_;
}

std::vector<std::string> config_node::keys() const {
    std::vector<std::string> out;
    for (const entry& e : entries_) out.push_back(e.key);
    return out;
}

void copy_marks(config_node& resolved, const config_node& written) {
    if (written.mark().known()) resolved.set_mark(written.mark());
    if (!resolved.is_map() || !written.is_map()) return;
    for (config_node::entry& e : resolved.entries()) {
        for (const config_node::entry& w : written.entries()) {
            if (w.key != e.key) continue;
            if (w.key_mark.known()) e.key_mark = w.key_mark;
            copy_marks(e.value, w.value);
        }
    }
}

namespace {

source_mark mark_of(const YAML::Node& node, const std::string& file) {
    const YAML::Mark m = node.Mark();
    if (m.is_null()) return {file, 0, 0};
    return {file, m.line + 1, m.column + 1};
}

config_node convert(const YAML::Node& node, const std::string& file) {
    const source_mark mark = mark_of(node, file);
    switch (node.Type()) {
        case YAML::NodeType::Scalar:
            // yaml-cpp tags plain scalars "?" and quoted ones "!".
            return config_node::scalar(node.Scalar(), mark, node.Tag() == "!");
        case YAML::NodeType::Sequence: {
            config_node seq = config_node::sequence(mark);
            for (const YAML::Node& item : node) seq.push_back(convert(item, file));
            return seq;
        }
        case YAML::NodeType::Map: {
            config_node map = config_node::map(mark);
            for (auto it = node.begin(); it != node.end(); ++it) {
                const source_mark key_mark = mark_of(it->first, file);
                if (!it->first.IsScalar()) throw config_error(key_mark, "map keys must be plain names");
                const std::string key = it->first.Scalar();
                if (key == "<<")
                    throw config_error(key_mark, "YAML merge keys ('<<') are not supported",
                                       {"use 'defaults: [file.yaml]' to share settings between files"});
                if (map.find(key)) throw config_error(key_mark, "duplicate key '" + key + "'");
                map.set(key, convert(it->second, file), key_mark);
            }
            return map;
        }
        default:
            return config_node{};
    }
}

void emit(YAML::Emitter& out, const config_node& node) {
    switch (node.type()) {
        case config_node::kind::null:
            out << YAML::Null;
            break;
        case config_node::kind::scalar:
            if (node.quoted())
                out << YAML::DoubleQuoted << node.text();
            else
                out << node.text();
            break;
        case config_node::kind::sequence: {
            // Short lists of scalars read best inline: [1, 2, 2].
            bool flat = true;
            for (const config_node& item : node.items()) flat = flat && item.is_scalar();
            if (flat) out << YAML::Flow;
            out << YAML::BeginSeq;
            for (const config_node& item : node.items()) emit(out, item);
            out << YAML::EndSeq;
            break;
        }
        case config_node::kind::map:
            out << YAML::BeginMap;
            for (const config_node::entry& e : node.entries()) {
                out << YAML::Key << e.key << YAML::Value;
                emit(out, e.value);
            }
            out << YAML::EndMap;
            break;
    }
}

}  // namespace

config_node parse_yaml(const std::string& text, const std::string& file) {
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        throw config_error({file, e.mark.line + 1, e.mark.column + 1}, "invalid YAML: " + e.msg);
    }
    return convert(root, file);
}

config_node load_yaml_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw config_error(source_mark{path}, "cannot open file; check the path");
    std::ostringstream text;
    text << in.rdbuf();
    return parse_yaml(text.str(), path);
}

std::string to_yaml(const config_node& node) {
    YAML::Emitter out;
    out.SetIndent(2);
    emit(out, node);
    return std::string(out.c_str()) + "\n";
}

std::string to_flow_yaml(const config_node& node) {
    YAML::Emitter out;
    out.SetMapFormat(YAML::Flow);
    out.SetSeqFormat(YAML::Flow);
    emit(out, node);
    return out.c_str();
}

bool equivalent(const config_node& a, const config_node& b) {
    if (a.type() != b.type()) return false;
    switch (a.type()) {
        case config_node::kind::null:
            return true;
        case config_node::kind::scalar:
            return a.text() == b.text();
        case config_node::kind::sequence:
            if (a.items().size() != b.items().size()) return false;
            for (std::size_t i = 0; i < a.items().size(); ++i)
                if (!equivalent(a.items()[i], b.items()[i])) return false;
            return true;
        case config_node::kind::map:
            if (a.entries().size() != b.entries().size()) return false;
            for (const config_node::entry& e : a.entries()) {
                const config_node* other = b.find(e.key);
                if (!other || !equivalent(e.value, *other)) return false;
            }
            return true;
    }
    return false;
}

}  // namespace difflab
