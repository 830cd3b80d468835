// Sink kind "smtp": one plain-text digest mail per organisation per delivery run, to the
// organisation's recorded contacts and/or fixed addresses, in the organisation's language (Danish
// or English). Transport by libcurl (STARTTLS or implicit TLS; plain SMTP only towards the loopback
// host); credentials are read when a run starts, kept in zeroizing buffers and never put into a
// message, the settings or an error. Everything from certificates and the store that reaches a
// header is stripped of control characters and RFC 2047-encoded when not ASCII, so no value can
// start a header of its own; the body travels base64-encoded.
#include "lifecycle/sinks/curl_support.hpp"
#include "lifecycle/sinks/sink_kind.hpp"

#include "core/file_io.hpp"
#include "core/text.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/secret.hpp>
#include <dpgcert/time.hpp>

#include <botan/base64.h>
#include <botan/hash.h>
#include <botan/hex.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>

namespace dpgcert {
namespace {

using nlohmann::json;
using lifecycle_detail::bad_setting;
using lifecycle_detail::setting_number;
using lifecycle_detail::setting_text;
using lifecycle_detail::settings_of;

constexpr std::int64_t kMaxTimeout = 300;
constexpr std::int64_t kMaxAttempts = 100;
constexpr std::size_t kMaxRecipients = 100;

struct SmtpSettings {
  std::string url;
  bool implicit_tls = false;  ///< smtps://
  bool starttls_required = true;
  std::string from;
  std::vector<std::string> to;
  bool contacts = false;
  std::string auth_file;  ///< At most one of these two names where the credentials are.
  std::string auth_env;
  std::chrono::seconds timeout{30};
  int max_attempts = 8;
};

/// A mailbox address as SMTP and a header can carry it: local@domain, printable ASCII, no
/// spaces, angle brackets, quotes, commas or semicolons. Deliberately narrower than RFC 5321.
bool plain_address(std::string_view a) {
  if (a.empty() || a.size() > 254) return false;
  const auto at = a.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 == a.size() || a.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  return std::all_of(a.begin(), a.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f && std::strchr("<>()[]\\,;:\"", c) == nullptr;
  });
}

SmtpSettings smtp_settings(const SinkConfig& sink) {
  const json j = settings_of(sink);
  SmtpSettings s;
  s.url = setting_text(sink, j, "url");
  if (s.url.empty()) bad_setting(sink, "an smtp sink needs \"url\" (smtp://HOST:PORT or smtps://HOST:PORT)");
  const lifecycle_detail::UrlParts p = lifecycle_detail::url_parts(s.url);
  if (!p.valid) bad_setting(sink, "\"" + s.url + "\" is not a URL");
  if (p.scheme != "smtp" && p.scheme != "smtps") bad_setting(sink, "an smtp sink's URL is smtp:// or smtps://, not " + p.scheme);
  if (p.has_credentials) bad_setting(sink, "an smtp URL must not hold a user name or password (use \"auth_file\" or \"auth_env\")");
  s.implicit_tls = p.scheme == "smtps";
  const std::string starttls = setting_text(sink, j, "starttls");
  if (!starttls.empty() && starttls != "required" && starttls != "opportunistic") {
    bad_setting(sink, "\"starttls\" is required or opportunistic");
  }
  s.starttls_required = starttls != "opportunistic";
  // Opportunistic STARTTLS may end in plain SMTP: like plain http for the webhook, only on this host.
  if (!s.implicit_tls && !s.starttls_required && !lifecycle_detail::is_loopback_host(p.host)) {
    bad_setting(sink, "STARTTLS may be opportunistic (plain SMTP) only towards 127.0.0.1, ::1 or localhost; not " + p.host);
  }
  s.from = setting_text(sink, j, "from");
  if (!plain_address(s.from)) bad_setting(sink, "an smtp sink needs \"from\": one address (name@example.dk)");
  if (j.contains("to")) {
    if (!j["to"].is_array()) bad_setting(sink, "\"to\" must be a list of addresses");
    for (const json& t : j["to"]) {
      if (!t.is_string() || !plain_address(t.get<std::string>())) bad_setting(sink, "\"to\" holds something that is not one address");
      s.to.push_back(t.get<std::string>());
    }
  }
  if (j.contains("contacts")) {
    if (!j["contacts"].is_boolean()) bad_setting(sink, "\"contacts\" is true or false");
    s.contacts = j["contacts"].get<bool>();
  }
  if (!s.contacts && s.to.empty()) bad_setting(sink, "an smtp sink needs recipients: \"to\" addresses and/or \"contacts\"");
  s.auth_file = setting_text(sink, j, "auth_file");
  s.auth_env = setting_text(sink, j, "auth_env");
  if (!s.auth_file.empty() && !s.auth_env.empty()) bad_setting(sink, "credentials come from one place: \"auth_file\" or \"auth_env\"");
  s.timeout = std::chrono::seconds(setting_number(sink, j, "timeout_seconds", 30, kMaxTimeout));
  s.max_attempts = static_cast<int>(setting_number(sink, j, "max_attempts", 8, kMaxAttempts));
  return s;
}

/// User name and password, NUL-terminated for curl (which copies them).
struct Credentials {
  SecretBytes user;
  SecretBytes password;
};

/// "USER:PASSWORD" (one line; the first ':' separates) into two C strings. Error(invalid_argument)
/// naming where it came from, never what it holds.
Credentials split_credentials(const SecretBytes& secret, const std::string& where) {
  std::string_view text = secret.view();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  const auto colon = text.find(':');
  if (colon == 0 || colon == std::string_view::npos || text.find_first_of("\r\n") != std::string_view::npos) {
    throw Error(ErrorCode::invalid_argument, "the SMTP credentials " + where + " are not one line USER:PASSWORD");
  }
  auto c_string = [](std::string_view part) {
    SecretBytes out = SecretBytes::zeroed(part.size() + 1);
    std::memcpy(out.data(), part.data(), part.size());
    return out;
  };
  return {c_string(text.substr(0, colon)), c_string(text.substr(colon + 1))};
}

std::optional<Credentials> load_credentials(const SmtpSettings& s) {
  if (!s.auth_file.empty()) {
    detail::ReadFileOptions o;
    o.limit = 4096;
    o.what = "SMTP credentials file";
    o.private_file = true;
    return split_credentials(detail::read_secret_file(s.auth_file, o), "in '" + s.auth_file + "'");
  }
  if (s.auth_env.empty()) return std::nullopt;
  const char* value = std::getenv(s.auth_env.c_str());
  if (value == nullptr || *value == '\0') {
    throw Error(ErrorCode::invalid_argument, "the SMTP credentials variable $" + s.auth_env + " is not set");
  }
  return split_credentials(SecretBytes::from_text(value), "in $" + s.auth_env);
}

// ---- the message ----------------------------------------------------------------------------

/// Text from a certificate or the store, safe for one line: well-formed UTF-8, C0 and C1 controls
/// and DEL as spaces (so a CR or LF can never end a header or a line early).
std::string one_line(std::string_view raw) {
  const std::string s = detail::utf8_text(raw);
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      out += ' ';
    } else if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(s[i + 1]) <= 0x9f) {
      out += ' ';  // a C1 control (U+0080..U+009F)
      ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

/// A header value: as it is when printable ASCII, else RFC 2047 encoded-words ("=?UTF-8?B?...?="),
/// each at most 75 characters and cut between characters, folded onto continuation lines.
std::string header_text(std::string_view raw) {
  const std::string s = one_line(raw);
  const bool ascii = std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii && s.find("=?") == std::string::npos && s.size() <= 900) return s;
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t n = std::min<std::size_t>(45, s.size() - i);  // 45 bytes: 60 base64 + 12 framing < 75
    while (i + n < s.size() && (static_cast<unsigned char>(s[i + n]) & 0xc0) == 0x80) --n;
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?";
    out += Botan::base64_encode(reinterpret_cast<const std::uint8_t*>(s.data() + i), n);
    out += "?=";
    i += n;
  }
  return out;
}

/// An RFC 5322 date-time in UTC ("Sat, 05 Dec 2026 03:01:00 +0000"), in English whatever the locale.
std::string rfc5322_date(std::time_t t) {
  static const char* const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
                months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

/// "<32 hex digits of SHA-256 over the sorted event ids>.dpgcert@<the From domain>": the same
/// events give the same Message-ID on every attempt, so a resend is recognisable.
std::string message_id(std::vector<std::string> ids, const std::string& from) {
  std::sort(ids.begin(), ids.end());
  const auto hash = Botan::HashFunction::create_or_throw("SHA-256");
  for (const std::string& id : ids) {
    hash->update(id);
    hash->update('\n');
  }
  const auto digest = hash->final();
  std::string out = "<";
  out += Botan::hex_encode(digest.data(), 16, false);
  out += ".dpgcert@";
  out += from.substr(from.find('@') + 1);
  out += '>';
  return out;
}

struct Words {
  const char* subject;        ///< "... <n> ..." before the organisation
  const char* greeting;
  const char* intro;          ///< Followed by " <org>:" / "."
  const char* no_org;
  const char* expiring;       ///< Before the stage's days.
  const char* expiring_end;   ///< After them.
  const char* expired;
  const char* renewed;
  const char* revoked;
  const char* validation_failed;
  const char* expires;
  const char* days_left;
  const char* mailbox;
  const char* fingerprint;
  const char* event;
  const char* successor;
  const char* outro;
};

constexpr Words kDanish{
    "Certifikater kræver handling",
    "Hej,",
    "Følgende certifikater har passeret en varslingsgrænse",
    "uden tilknyttet organisation",
    "udløber snart (grænse: ",
    " dage)",
    "er udløbet",
    "er fornyet",
    "er tilbagekaldt",
    "fejlede validering",
    "Udløber",
    "Dage tilbage",
    "Postkasse",
    "Fingeraftryk (SHA-256)",
    "Hændelses-id",
    "Afløst af",
    "Forny certifikaterne i god tid, så sikker post ikke stopper.\n\nVenlig hilsen\ndpgcert\n",
};

constexpr Words kEnglish{
    "Certificates need attention",
    "Hello,",
    "The following certificates have crossed a warning threshold",
    "not attached to an organisation",
    "expires soon (threshold: ",
    " days)",
    "has expired",
    "has been renewed",
    "has been revoked",
    "failed validation",
    "Expires",
    "Days left",
    "Mailbox",
    "Fingerprint (SHA-256)",
    "Event id",
    "Superseded by",
    "Renew the certificates in good time so that secure mail does not stop.\n\nKind regards\ndpgcert\n",
};

const Words& words_for(const std::optional<Organisation>& org) {
  return org && org->language == "en" ? kEnglish : kDanish;
}

std::string what_happened(const Event& e, const Words& w) {
  switch (e.kind) {
    case EventKind::expiring: {
      std::string out = w.expiring;
      out += std::to_string(e.stage_days.value_or(0));
      out += w.expiring_end;
      return out;
    }
    case EventKind::expired: return w.expired;
    case EventKind::renewed: return w.renewed;
    case EventKind::revoked: return w.revoked;
    case EventKind::validation_failed: {
      std::string out = w.validation_failed;
      if (!e.failed_checks.empty()) {
        out += " (";
        for (std::size_t i = 0; i < e.failed_checks.size(); ++i) out += (i ? ", " : "") + one_line(e.failed_checks[i]);
        out += ')';
      }
      return out;
    }
  }
  return "?";
}

/// The organisation in one line: "Name (CVR 12345678)".
std::string organisation_line(const std::optional<Organisation>& org, const Words& w) {
  if (!org) return w.no_org;
  std::string out = one_line(org->name).substr(0, 200);
  out += " (CVR ";
  out += one_line(org->cvr);
  out += ')';
  return out;
}

std::string digest_body(const std::optional<Organisation>& org, const std::vector<const Event*>& events, const Words& w) {
  std::string out = w.greeting;
  out += "\n\n";
  out += w.intro;
  if (org) {
    out += " – ";
    out += organisation_line(org, w);
  } else {
    out += " (";
    out += w.no_org;
    out += ')';
  }
  out += ":\n";
  for (const Event* e : events) {
    out += "\n- ";
    out += one_line(e->certificate.common_name.value_or(e->certificate.fingerprint));
    out += ": ";
    out += what_happened(*e, w);
    out += "\n  ";
    out += w.expires;
    out += ": ";
    out += format_rfc3339(e->effective_not_after);
    out += "\n  ";
    out += w.days_left;
    out += ": ";
    out += std::to_string(e->days_left);
    if (e->certificate.mailbox) {
      out += "\n  ";
      out += w.mailbox;
      out += ": ";
      out += one_line(*e->certificate.mailbox);
    }
    if (e->superseded_by) {
      out += "\n  ";
      out += w.successor;
      out += ": ";
      out += one_line(*e->superseded_by);
    }
    out += "\n  ";
    out += w.fingerprint;
    out += ": ";
    out += one_line(e->certificate.fingerprint);
    out += "\n  ";
    out += w.event;
    out += ": ";
    out += one_line(e->id);
    out += '\n';
  }
  out += '\n';
  out += w.outro;
  return out;
}

/// The whole message, CRLF line ends, the body base64 in lines of 76.
std::string digest_message(const SmtpSettings& s, const std::vector<std::string>& recipients,
                           const std::optional<Organisation>& org, const std::vector<const Event*>& events,
                           std::time_t now) {
  const Words& w = words_for(org);
  std::vector<std::string> ids;
  for (const Event* e : events) ids.push_back(e->id);
  std::string subject = w.subject;
  subject += ": ";
  subject += organisation_line(org, w);
  subject += " [";
  subject += std::to_string(events.size());
  subject += ']';
  std::string m;
  m += "From: dpgcert <";
  m += s.from;
  m += ">\r\n";
  m += "To: ";
  for (std::size_t i = 0; i < recipients.size(); ++i) {
    if (i != 0) m += ",\r\n ";
    m += recipients[i];
  }
  m += "\r\n";
  m += "Subject: ";
  m += header_text(subject);
  m += "\r\nDate: ";
  m += rfc5322_date(now);
  m += "\r\nMessage-ID: ";
  m += message_id(ids, s.from);
  m += "\r\n";
  m += "Content-Language: ";
  m += (&w == &kEnglish ? "en" : "da");
  m += "\r\nAuto-Submitted: auto-generated\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: text/plain; charset=UTF-8\r\n";
  m += "Content-Transfer-Encoding: base64\r\n\r\n";
  std::string body;
  for (const char c : digest_body(org, events, w)) {
    if (c == '\n') body += '\r';
    body += c;
  }
  const std::string b64 = Botan::base64_encode(reinterpret_cast<const std::uint8_t*>(body.data()), body.size());
  for (std::size_t i = 0; i < b64.size(); i += 76) {
    m += b64.substr(i, 76);
    m += "\r\n";
  }
  return m;
}

// ---- the transport --------------------------------------------------------------------------

struct Upload {
  std::string_view rest;
};

std::size_t on_read(char* buffer, std::size_t size, std::size_t n, void* user) {
  auto* u = static_cast<Upload*>(user);
  const std::size_t k = std::min(size * n, u->rest.size());
  std::memcpy(buffer, u->rest.data(), k);
  u->rest.remove_prefix(k);
  return k;
}

/// What the server said: nothing (sent), or why not, with the last SMTP reply code (0: none).
struct SendOutcome {
  bool sent = false;
  long reply = 0;
  bool login_denied = false;
  std::string why;
};

SendOutcome send_mail(const SmtpSettings& s, const std::optional<Credentials>& auth,
                      const std::vector<std::string>& recipients, const std::string& message) {
  SendOutcome out;
  lifecycle_detail::CurlEasy curl;
  if (!curl) {
    out.why = "cannot start an SMTP client";
    return out;
  }
  curl_slist* rcpt = nullptr;
  for (const std::string& r : recipients) rcpt = curl_slist_append(rcpt, ("<" + r + ">").c_str());
  const std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> rcpt_list(rcpt, &curl_slist_free_all);
  CURL* h = curl.get();
  lifecycle_detail::restrict_protocols(h, "smtp,smtps");
  curl_easy_setopt(h, CURLOPT_URL, s.url.c_str());
  const std::string from = "<" + s.from + ">";
  curl_easy_setopt(h, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
  if (!s.implicit_tls) curl_easy_setopt(h, CURLOPT_USE_SSL, static_cast<long>(s.starttls_required ? CURLUSESSL_ALL : CURLUSESSL_TRY));
  if (auth) {
    curl_easy_setopt(h, CURLOPT_USERNAME, reinterpret_cast<const char*>(auth->user.data()));
    curl_easy_setopt(h, CURLOPT_PASSWORD, reinterpret_cast<const char*>(auth->password.data()));
  }
  Upload upload{message};
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
  curl_easy_setopt(h, CURLOPT_READDATA, &upload);
  curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(s.timeout.count() * 1000));
  const CURLcode rc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out.reply);
  if (rc == CURLE_OK) {
    out.sent = true;
    return out;
  }
  out.login_denied = rc == CURLE_LOGIN_DENIED;
  out.why = lifecycle_detail::transport_error(rc, curl.error_text(), s.timeout);
  return out;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

class SmtpRunner final : public lifecycle_detail::SinkRunner {
 public:
  SmtpRunner(SmtpSettings s, std::optional<Credentials> auth) : settings_(std::move(s)), auth_(std::move(auth)) {}

  std::vector<SinkResult> deliver(std::span<const Delivery> batch) override {
    std::vector<SinkResult> out(batch.size(), SinkResult::retry("not attempted"));
    // One message per organisation: its events in batch order, the groups in order of first event.
    std::vector<Event> events(batch.size());
    std::vector<std::string> order;
    std::map<std::string, std::vector<std::size_t>> groups;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      try {
        events[i] = event_from_json(json::parse(batch[i].event.payload));
      } catch (const std::exception&) {
        out[i] = SinkResult::abandon("the event in the outbox is not readable JSON (not retried)");
        continue;
      }
      const std::string key = events[i].organisation ? events[i].organisation->cvr : std::string();
      if (!groups.contains(key)) order.push_back(key);
      groups[key].push_back(i);
    }
    for (const std::string& key : order) {
      const std::vector<std::size_t>& members = groups[key];
      const SinkResult r = one_organisation(batch, events, members);
      for (const std::size_t i : members) out[i] = r;
    }
    return out;
  }

 private:
  SinkResult one_organisation(std::span<const Delivery> batch, const std::vector<Event>& events,
                              const std::vector<std::size_t>& members) {
    const std::optional<Organisation>& org = events[members[0]].organisation;
    std::vector<std::string> recipients;
    auto add = [&](const std::string& address) {
      const std::string l = lower(address);
      if (std::find(recipients.begin(), recipients.end(), l) == recipients.end() && recipients.size() < kMaxRecipients) {
        recipients.push_back(l);
      }
    };
    std::size_t unusable = 0;
    if (settings_.contacts && org) {
      for (const Contact& c : org->contacts) {
        if (plain_address(c.email)) {
          add(c.email);
        } else if (!c.email.empty()) {
          ++unusable;
        }
      }
    }
    for (const std::string& t : settings_.to) add(t);
    if (recipients.empty()) {
      std::string why = "no recipient: ";
      if (org) {
        why += "organisation ";
        why += one_line(org->cvr);
        why += " has no contact with a usable e-mail address";
        if (unusable != 0) {
          why += " (";
          why += std::to_string(unusable);
          why += " unusable)";
        }
      } else {
        why += "the certificate is attached to no organisation";
      }
      why += settings_.contacts ? " and the sink has no --to address (not retried)"
                                : " (the sink does not mail --contacts and has no --to address; not retried)";
      return SinkResult::abandon(why);
    }
    std::vector<const Event*> listed;
    int attempts = 0;
    for (const std::size_t i : members) {
      listed.push_back(&events[i]);
      attempts = std::max(attempts, batch[i].attempts);
    }
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    const std::string message = digest_message(settings_, recipients, org, listed, now);
    const SendOutcome r = send_mail(settings_, auth_, recipients, message);
    if (r.sent) return SinkResult::ok();
    std::string why;
    bool retryable = true;
    if (r.login_denied) {
      // The operator's credentials are wrong: say so, and keep the mail for when they are fixed.
      why = "the SMTP server refused the credentials from ";
      why += settings_.auth_file.empty() ? "$" + settings_.auth_env : settings_.auth_file;
      if (r.reply != 0) why += " (reply " + std::to_string(r.reply) + ")";
    } else if (r.reply >= 400) {
      why = "the SMTP server answered ";
      why += std::to_string(r.reply);
      why += " (";
      why += r.why;
      why += ')';
      retryable = r.reply < 500;  // 4xx: transient; 5xx: permanent
    } else {
      why = r.why;
    }
    if (!retryable) return SinkResult::abandon(why + " (not retried)");
    if (attempts >= settings_.max_attempts) {
      return SinkResult::abandon(why + "; gave up after " + std::to_string(attempts) + " attempt(s)");
    }
    return SinkResult::retry_in(why, lifecycle_detail::jittered(retry_delay(attempts)));
  }

  SmtpSettings settings_;
  std::optional<Credentials> auth_;
};

}  // namespace

namespace lifecycle_detail {

SinkKindEntry smtp_sink_kind() {
  SinkOption url;
  url.key = "url";
  url.help = "Mail a digest per organisation through smtp://HOST:PORT (STARTTLS) or smtps://HOST:PORT";
  url.required = true;
  url.flag = "smtp";  // --smtp URL chooses the kind
  SinkOption from;
  from.key = "from";
  from.help = "The mail's sender address (smtp)";
  SinkOption to;
  to.key = "to";
  to.type = SinkOption::Type::strings;
  to.help = "Mail every digest to ADDR as well (smtp; repeatable)";
  SinkOption contacts;
  contacts.key = "contacts";
  contacts.type = SinkOption::Type::flag;
  contacts.help = "Mail each organisation's digest to its recorded contacts (smtp)";
  SinkOption auth_file;
  auth_file.key = "auth_file";
  auth_file.type = SinkOption::Type::path;
  auth_file.help = "SMTP credentials USER:PASSWORD from FILE (mode 0600)";
  SinkOption auth_env;
  auth_env.key = "auth_env";
  auth_env.help = "SMTP credentials USER:PASSWORD from the environment variable NAME";
  SinkOption starttls;
  starttls.key = "starttls";
  starttls.help = "smtp://: STARTTLS 'required' (default) or 'opportunistic' (only to 127.0.0.1/localhost)";
  starttls.default_value = "required";
  const SinkOption timeout = timeout_option();
  const SinkOption attempts = max_attempts_option();
  SinkKindEntry k;
  k.info.name = "smtp";
  k.info.summary = "a plain-text digest mail per organisation (Danish or English), by SMTP";
  k.info.options = {url, from, to, contacts, auth_file, auth_env, starttls, timeout, attempts};
  k.validate = [](const SinkConfig& sink) { (void)smtp_settings(sink); };
  k.make = [](const SinkConfig& sink, const EventCallback*) -> std::unique_ptr<SinkRunner> {
    SmtpSettings s = smtp_settings(sink);
    auto auth = load_credentials(s);
    return std::make_unique<SmtpRunner>(std::move(s), std::move(auth));
  };
  k.describe = [](const SinkConfig& sink) {
    const SmtpSettings s = smtp_settings(sink);
    std::string out = "mail ";
    out += s.url;
    out += " from ";
    out += s.from;
    out += " to ";
    std::string who = s.contacts ? "contacts" : "";
    for (const std::string& t : s.to) who += (who.empty() ? "" : ", ") + t;
    out += who;
    if (!s.implicit_tls) out += s.starttls_required ? " (STARTTLS)" : " (STARTTLS if offered)";
    if (!s.auth_file.empty() || !s.auth_env.empty()) {
      out += ", credentials from ";
      out += s.auth_file.empty() ? "$" + s.auth_env : s.auth_file;
    }
    return out;
  };
  return k;
}

}  // namespace lifecycle_detail
}  // namespace dpgcert
