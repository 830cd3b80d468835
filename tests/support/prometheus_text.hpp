// Test-only: a strict parser of the Prometheus text exposition format (version 0.0.4), standing in
// for `promtool check metrics` where promtool is not installed. It rejects what Prometheus rejects
// (bad names, bad escapes, unparsable values, a TYPE after its samples, a family split in two,
// duplicate series) and what promtool's linter flags (no HELP, a counter without _total).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace dpgcert::test {

struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct PromFamily {
  std::string name;
  std::string type;  ///< counter, gauge, histogram, summary, untyped
  std::string help;
  std::vector<PromSample> samples;
};

/// Families by name, in the order they appear.
struct PromExposition {
  std::vector<PromFamily> families;
  [[nodiscard]] const PromFamily& family(std::string_view name) const {
    for (const auto& f : families) {
      if (f.name == name) return f;
    }
    throw std::runtime_error("no metric family " + std::string(name));
  }
  [[nodiscard]] bool has(std::string_view name) const {
    for (const auto& f : families) {
      if (f.name == name) return true;
    }
    return false;
  }
};

class PromParser {
 public:
  /// Parses `text`; throws std::runtime_error naming the line and the problem.
  static PromExposition parse(std::string_view text) {
    PromParser p;
    std::size_t line_no = 0;
    std::size_t pos = 0;
    if (!text.empty() && text.back() != '\n') throw std::runtime_error("the exposition does not end with a newline");
    while (pos < text.size()) {
      const std::size_t end = text.find('\n', pos);
      const std::string_view line = text.substr(pos, end - pos);
      pos = end + 1;
      ++line_no;
      try {
        p.line(line);
      } catch (const std::runtime_error& e) {
        throw std::runtime_error("line " + std::to_string(line_no) + ": " + e.what() + ": " + std::string(line));
      }
    }
    for (const auto& f : p.out_.families) {
      if (f.help.empty()) throw std::runtime_error("metric " + f.name + " has no HELP");
      if (f.type.empty()) throw std::runtime_error("metric " + f.name + " has no TYPE");
      if (f.type == "counter" && !f.name.ends_with("_total")) {
        throw std::runtime_error("counter " + f.name + " should end in _total");
      }
    }
    return std::move(p.out_);
  }

 private:
  static bool name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'; }
  static bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }

  static void check_metric_name(std::string_view n) {
    if (n.empty() || !name_start(n[0])) throw std::runtime_error("bad metric name '" + std::string(n) + "'");
    for (char c : n) {
      if (!name_char(c)) throw std::runtime_error("bad metric name '" + std::string(n) + "'");
    }
  }

  static void check_label_name(std::string_view n) {
    if (n.empty() || n[0] == ':' || !name_start(n[0]) || n.starts_with("__")) {
      throw std::runtime_error("bad label name '" + std::string(n) + "'");
    }
    for (char c : n) {
      if (!name_char(c) || c == ':') throw std::runtime_error("bad label name '" + std::string(n) + "'");
    }
  }

  static double parse_value(std::string_view v) {
    if (v == "NaN") return std::nan("");
    if (v == "+Inf" || v == "Inf") return INFINITY;
    if (v == "-Inf") return -INFINITY;
    if (v.empty()) throw std::runtime_error("missing value");
    const std::string s(v);
    char* end = nullptr;
    const double d = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size() || s.find_first_of("xXpP") != std::string::npos) {
      throw std::runtime_error("bad value '" + s + "'");
    }
    return d;
  }

  PromFamily& family_for(const std::string& name, bool declaring) {
    if (!out_.families.empty() && out_.families.back().name == name) return out_.families.back();
    if (seen_.count(name) != 0) {
      throw std::runtime_error(declaring ? "second HELP/TYPE for " + name : "the samples of " + name + " are not together");
    }
    seen_.insert(name);
    out_.families.push_back(PromFamily{name, "", "", {}});
    return out_.families.back();
  }

  void line(std::string_view l) {
    if (l.empty()) return;
    if (l[0] == '#') return comment(l);
    sample(l);
  }

  void comment(std::string_view l) {
    const bool help = l.starts_with("# HELP ");
    const bool type = l.starts_with("# TYPE ");
    if (!help && !type) return;  // a plain comment
    std::string_view rest = l.substr(7);
    const std::size_t sp = rest.find(' ');
    const std::string name(rest.substr(0, sp));
    check_metric_name(name);
    const std::string_view arg = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
    PromFamily& f = family_for(name, true);
    if (help) {
      if (!f.help.empty()) throw std::runtime_error("second HELP for " + name);
      std::string text;
      for (std::size_t i = 0; i < arg.size(); ++i) {
        if (arg[i] != '\\') {
          text += arg[i];
          continue;
        }
        if (i + 1 >= arg.size()) throw std::runtime_error("a HELP ends in a backslash");
        const char e = arg[++i];
        if (e == '\\') text += '\\';
        else if (e == 'n') text += '\n';
        else throw std::runtime_error("bad escape in HELP");
      }
      if (text.empty()) throw std::runtime_error("an empty HELP");
      f.help = text;
    } else {
      if (!f.type.empty()) throw std::runtime_error("second TYPE for " + name);
      if (!f.samples.empty()) throw std::runtime_error("TYPE after the samples of " + name);
      const std::string t(arg);
      if (t != "counter" && t != "gauge" && t != "histogram" && t != "summary" && t != "untyped") {
        throw std::runtime_error("unknown type '" + t + "'");
      }
      f.type = t;
    }
  }

  void sample(std::string_view l) {
    std::size_t i = 0;
    while (i < l.size() && name_char(l[i])) ++i;
    PromSample s;
    s.name = std::string(l.substr(0, i));
    check_metric_name(s.name);
    if (i < l.size() && l[i] == '{') {
      ++i;
      for (;;) {
        if (i < l.size() && l[i] == '}') {
          ++i;
          break;
        }
        std::size_t n0 = i;
        while (i < l.size() && name_char(l[i])) ++i;
        const std::string label(l.substr(n0, i - n0));
        check_label_name(label);
        if (i + 1 >= l.size() || l[i] != '=' || l[i + 1] != '"') throw std::runtime_error("expected =\" after " + label);
        i += 2;
        std::string value;
        for (;;) {
          if (i >= l.size()) throw std::runtime_error("unterminated label value");
          const char c = l[i++];
          if (c == '"') break;
          if (c != '\\') {
            value += c;
            continue;
          }
          if (i >= l.size()) throw std::runtime_error("unterminated escape");
          const char e = l[i++];
          if (e == '\\') value += '\\';
          else if (e == '"') value += '"';
          else if (e == 'n') value += '\n';
          else throw std::runtime_error(std::string("bad escape \\") + e + " in a label value");
        }
        if (!s.labels.emplace(label, value).second) throw std::runtime_error("label " + label + " twice");
        if (i < l.size() && l[i] == ',') {
          ++i;
          continue;
        }
        if (i < l.size() && l[i] == '}') {
          ++i;
          break;
        }
        throw std::runtime_error("expected , or } in the labels");
      }
    }
    if (i >= l.size() || l[i] != ' ') throw std::runtime_error("expected a space before the value");
    ++i;
    const std::string_view rest = l.substr(i);
    const std::size_t sp = rest.find(' ');
    s.value = parse_value(rest.substr(0, sp));
    if (sp != std::string_view::npos) {
      const std::string ts(rest.substr(sp + 1));
      char* end = nullptr;
      (void)std::strtoll(ts.c_str(), &end, 10);
      if (ts.empty() || end != ts.c_str() + ts.size()) throw std::runtime_error("bad timestamp '" + ts + "'");
    }
    PromFamily& f = family_for(s.name, false);
    std::string key = s.name;
    for (const auto& [k, v] : s.labels) key += "\x01" + k + "\x02" + v;
    if (!series_.insert(key).second) throw std::runtime_error("duplicate series");
    f.samples.push_back(std::move(s));
  }

  PromExposition out_;
  std::set<std::string> seen_;
  std::set<std::string> series_;
};

}  // namespace dpgcert::test
