// Renewal events: their stable ids and their JSON (the payload every sink receives).
#include "core/text.hpp"
#include "lifecycle/lifecycle_impl.hpp"

#include <dpgcert/error.hpp>

#include <botan/hash.h>
#include <botan/hex.h>
#include <nlohmann/json.hpp>

namespace dpgcert {
namespace {

using nlohmann::json;

json opt(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }

template <class E>
json enum_or_null(E value, E none) {
  return value == none ? json(nullptr) : json(std::string(oces::to_string(value)));
}

json certificate_json(const TrackedCertificate& c) {
  return {{"fingerprint_sha256", c.fingerprint},
          {"status", std::string(to_string(c.status))},
          {"common_name", opt(c.common_name)},
          {"issuer", c.issuer},
          {"issuer_common_name", opt(lifecycle_detail::rfc4514_first(c.issuer, "CN"))},
          {"serial", c.serial},
          {"not_before", format_rfc3339(c.not_before)},
          {"not_after", format_rfc3339(c.not_after)},
          {"effective_not_after", format_rfc3339(c.effective_not_after)},
          {"generation", enum_or_null(c.generation, oces::Generation::none)},
          {"type", enum_or_null(c.type, oces::CertificateType::none)},
          {"environment", enum_or_null(c.environment, oces::Environment::unknown)},
          {"oces_id", opt(c.oces_id)},
          {"certificate_cvr", opt(c.cvr)},
          {"organisation_cvr", opt(c.organisation_cvr)},
          {"mailbox", opt(c.mailbox)}};
}

json organisation_json(const Organisation& o) {
  json contacts = json::array();
  for (const Contact& c : o.contacts) contacts.push_back({{"name", c.name}, {"email", c.email}, {"role", c.role}});
  return {{"cvr", o.cvr}, {"name", o.name}, {"contacts", std::move(contacts)}, {"language", o.language}};
}

// ---- reading back ---------------------------------------------------------------------------

[[noreturn]] void bad(std::string_view what) {
  throw Error(ErrorCode::malformed, "event JSON: " + std::string(what));
}

const json& member(const json& j, const char* name) {
  if (!j.is_object() || !j.contains(name)) bad(std::string("missing member '") + name + "'");
  return j.at(name);
}

std::string text(const json& j, const char* name) {
  const json& v = member(j, name);
  if (!v.is_string()) bad(std::string("'") + name + "' is not a string");
  return v.get<std::string>();
}

std::optional<std::string> optional_text(const json& j, const char* name) {
  if (!j.is_object() || !j.contains(name) || j.at(name).is_null()) return std::nullopt;
  return text(j, name);
}

Time time_of(const json& j, const char* name) {
  try {
    return parse_rfc3339(text(j, name));
  } catch (const Error&) {
    bad(std::string("'") + name + "' is not an RFC 3339 time");
  }
}

template <class E, class Parse>
E enum_of(const json& j, const char* name, E none, Parse parse) {
  const auto t = optional_text(j, name);
  if (!t) return none;
  const auto v = parse(*t);
  if (!v) bad(std::string("unknown ") + name + " '" + *t + "'");
  return *v;
}

TrackedCertificate certificate_from(const json& c) {
  TrackedCertificate t;
  t.fingerprint = text(c, "fingerprint_sha256");
  const auto status = parse_certificate_status(text(c, "status"));
  if (!status) bad("unknown certificate status");
  t.status = *status;
  t.common_name = optional_text(c, "common_name");
  t.issuer = text(c, "issuer");
  t.serial = text(c, "serial");
  t.not_before = time_of(c, "not_before");
  t.not_after = time_of(c, "not_after");
  t.effective_not_after = time_of(c, "effective_not_after");
  t.generation = enum_of(c, "generation", oces::Generation::none, oces::parse_generation);
  t.type = enum_of(c, "type", oces::CertificateType::none, oces::parse_certificate_type);
  t.environment = enum_of(c, "environment", oces::Environment::unknown, oces::parse_environment);
  t.oces_id = optional_text(c, "oces_id");
  t.cvr = optional_text(c, "certificate_cvr");
  t.organisation_cvr = optional_text(c, "organisation_cvr");
  t.mailbox = optional_text(c, "mailbox");
  return t;
}

Organisation organisation_from(const json& o) {
  Organisation org;
  org.cvr = text(o, "cvr");
  org.name = text(o, "name");
  const json& contacts = member(o, "contacts");
  if (!contacts.is_array()) bad("'contacts' is not an array");
  for (const json& c : contacts) org.contacts.push_back({text(c, "name"), text(c, "email"), text(c, "role")});
  // Events recorded before organisations had a language carry none: the default.
  if (o.contains("language") && o["language"].is_string()) org.language = o["language"].get<std::string>();
  return org;
}

}  // namespace

std::string event_id(std::string_view fingerprint, EventKind kind, std::optional<int> stage) {
  std::string input(fingerprint);
  input += '|';
  input += to_string(kind);
  input += '|';
  if (stage) input += std::to_string(*stage);
  const auto hash = Botan::HashFunction::create_or_throw("SHA-256");
  hash->update(input);
  const auto digest = hash->final();
  // 128 bits: ample for uniqueness, short enough for file names and log lines.
  return Botan::hex_encode(digest.data(), 16, false);
}

nlohmann::json to_json(const Event& e) {
  json j;
  j["id"] = e.id;
  j["kind"] = std::string(to_string(e.kind));
  j["stage_days"] = e.stage_days ? json(*e.stage_days) : json(nullptr);
  j["at"] = format_rfc3339(e.at);
  j["days_left"] = e.days_left;
  j["effective_not_after"] = format_rfc3339(e.effective_not_after);
  j["fingerprint_sha256"] = e.certificate.fingerprint;
  j["cvr"] = opt(e.cvr());
  j["mailbox"] = opt(e.certificate.mailbox);
  j["certificate"] = certificate_json(e.certificate);
  j["organisation"] = e.organisation ? organisation_json(*e.organisation) : json(nullptr);
  j["superseded_by"] = opt(e.superseded_by);
  j["failed_checks"] = e.failed_checks;
  return detail::json_safe(std::move(j));
}

Event event_from_json(const nlohmann::json& j) {
  Event e;
  e.id = text(j, "id");
  const auto kind = parse_event_kind(text(j, "kind"));
  if (!kind) bad("unknown kind");
  e.kind = *kind;
  const json& stage = member(j, "stage_days");
  if (!stage.is_null()) {
    if (!stage.is_number_integer()) bad("'stage_days' is not an integer");
    e.stage_days = stage.get<int>();
  }
  e.at = time_of(j, "at");
  const json& days = member(j, "days_left");
  if (!days.is_number_integer()) bad("'days_left' is not an integer");
  e.days_left = days.get<long long>();
  e.effective_not_after = time_of(j, "effective_not_after");
  e.certificate = certificate_from(member(j, "certificate"));
  const json& org = member(j, "organisation");
  if (!org.is_null()) {
    e.organisation = organisation_from(org);
    e.certificate.organisation_name = e.organisation->name;
  }
  e.superseded_by = optional_text(j, "superseded_by");
  const json& failed = member(j, "failed_checks");
  if (!failed.is_array()) bad("'failed_checks' is not an array");
  for (const json& f : failed) {
    if (!f.is_string()) bad("'failed_checks' holds a non-string");
    e.failed_checks.push_back(f.get<std::string>());
  }
  return e;
}

}  // namespace dpgcert
