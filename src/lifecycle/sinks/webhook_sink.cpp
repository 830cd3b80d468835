// Sink kind "webhook": one HTTP POST per event, signed as Standard Webhooks sign (webhook-id,
// webhook-timestamp, webhook-signature "v1,<base64 HMAC-SHA256 of id.timestamp.body>"). Transport
// by libcurl (lifecycle/sinks/http_client.*); the secret is read when a run starts, kept in a
// zeroizing buffer and never put into a message.
#include "lifecycle/sinks/http_client.hpp"
#include "lifecycle/sinks/sink_kind.hpp"

#include "core/file_io.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/secret.hpp>

#include <botan/base64.h>
#include <botan/mac.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>

namespace dpgcert {
namespace {

using nlohmann::json;
using lifecycle_detail::bad_setting;
using lifecycle_detail::settings_of;
using lifecycle_detail::setting_number;
using lifecycle_detail::setting_text;

constexpr std::int64_t kMaxTimeout = 300;
constexpr std::int64_t kMaxAttempts = 100;
constexpr std::chrono::seconds kMaxRetryAfter{24 * 3600};

struct WebhookSettings {
  std::string url;
  std::string secret_file;  ///< One of these two names where the secret is.
  std::string secret_env;
  std::chrono::seconds timeout{30};
  int max_attempts = 8;
};

WebhookSettings webhook_settings(const SinkConfig& sink) {
  const json j = settings_of(sink);
  WebhookSettings s;
  s.url = setting_text(sink, j, "url");
  if (s.url.empty()) bad_setting(sink, "a webhook sink needs \"url\"");
  if (const auto why = lifecycle_detail::check_http_url(s.url)) bad_setting(sink, *why);
  s.secret_file = setting_text(sink, j, "secret_file");
  s.secret_env = setting_text(sink, j, "secret_env");
  if (s.secret_file.empty() == s.secret_env.empty()) {
    bad_setting(sink, "a webhook sink needs its signing secret from one place: \"secret_file\" or \"secret_env\"");
  }
  s.timeout = std::chrono::seconds(setting_number(sink, j, "timeout_seconds", 30, kMaxTimeout));
  s.max_attempts = static_cast<int>(setting_number(sink, j, "max_attempts", 8, kMaxAttempts));
  return s;
}

/// The HMAC key: the secret's base64 after an optional "whsec_", 24 to 64 bytes. Error(invalid_argument)
/// naming where it came from, never what it holds.
Botan::secure_vector<std::uint8_t> signing_key(const SecretBytes& secret, const std::string& where) {
  std::string_view text = secret.view();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
  if (text.starts_with("whsec_")) text.remove_prefix(6);
  Botan::secure_vector<std::uint8_t> key(Botan::base64_decode_max_output(text.size()));
  try {
    key.resize(Botan::base64_decode(key.data(), text.data(), text.size(), false));
  } catch (const std::exception&) {
    throw Error(ErrorCode::invalid_argument, "the webhook secret " + where + " is not base64 (\"whsec_...\")");
  }
  if (key.size() < 24 || key.size() > 64) {
    throw Error(ErrorCode::invalid_argument, "the webhook secret " + where + " must decode to 24 to 64 bytes");
  }
  return key;
}

Botan::secure_vector<std::uint8_t> load_key(const WebhookSettings& s) {
  if (!s.secret_file.empty()) {
    detail::ReadFileOptions o;
    o.limit = 4096;
    o.what = "webhook secret file";
    o.private_file = true;
    return signing_key(detail::read_secret_file(s.secret_file, o), "in '" + s.secret_file + "'");
  }
  const char* value = std::getenv(s.secret_env.c_str());
  if (value == nullptr || *value == '\0') {
    throw Error(ErrorCode::invalid_argument, "the webhook secret variable $" + s.secret_env + " is not set");
  }
  return signing_key(SecretBytes::from_text(value), "in $" + s.secret_env);
}

class WebhookRunner final : public lifecycle_detail::SinkRunner {
 public:
  WebhookRunner(WebhookSettings s, Botan::secure_vector<std::uint8_t> key)
      : settings_(std::move(s)), mac_(Botan::MessageAuthenticationCode::create_or_throw("HMAC(SHA-256)")) {
    mac_->set_key(key);
  }

  std::vector<SinkResult> deliver(std::span<const Delivery> batch) override {
    std::vector<SinkResult> out;
    out.reserve(batch.size());
    for (const Delivery& d : batch) out.push_back(one(d));
    return out;
  }

 private:
  SinkResult one(const Delivery& d) {
    // The transport's own time, as an HTTP Date header is: receivers compare it with their clock.
    const auto ts = std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
    mac_->update(d.event.id);
    mac_->update('.');
    mac_->update(ts);
    mac_->update('.');
    mac_->update(d.event.payload);
    const auto tag = mac_->final();
    lifecycle_detail::HttpRequest req;
    req.url = settings_.url;
    req.body = d.event.payload;
    req.timeout = settings_.timeout;
    std::string signature = "webhook-signature: v1,";  // appended: GCC 12 -O3's false -Wrestrict
    signature += Botan::base64_encode(tag);
    req.headers = {"Content-Type: application/json", "webhook-id: " + d.event.id, "webhook-timestamp: " + ts,
                   std::move(signature)};
    const lifecycle_detail::HttpResponse r = lifecycle_detail::http_post(req);
    if (r.status >= 200 && r.status < 300) return SinkResult::ok();
    std::string why;
    bool retryable = true;
    if (r.status == 0) {
      why = r.transport_error;
    } else {
      why = "the receiver answered HTTP ";
      why += std::to_string(r.status);
      retryable = r.status == 408 || r.status == 425 || r.status == 429 || r.status >= 500;
    }
    if (!retryable) return SinkResult::abandon(why + " (not retried)");
    if (d.attempts >= settings_.max_attempts) {
      return SinkResult::abandon(why + "; gave up after " + std::to_string(d.attempts) + " attempt(s)");
    }
    if (r.retry_after) return SinkResult::retry_in(why + " (Retry-After honoured)", std::min(*r.retry_after, kMaxRetryAfter));
    return SinkResult::retry_in(why, lifecycle_detail::jittered(retry_delay(d.attempts)));
  }

  WebhookSettings settings_;
  std::unique_ptr<Botan::MessageAuthenticationCode> mac_;
};

}  // namespace

namespace lifecycle_detail {

SinkKindEntry webhook_sink_kind() {
  SinkKindEntry k;
  SinkOption url;
  url.key = "url";
  url.help = "POST each event to URL, signed (Standard Webhooks); http only to 127.0.0.1/localhost";
  url.required = true;
  url.flag = "webhook";  // --webhook URL chooses the kind
  SinkOption secret_file;
  secret_file.key = "secret_file";
  secret_file.type = SinkOption::Type::path;
  secret_file.help = "The webhook signing secret (whsec_<base64>) from FILE (mode 0600)";
  SinkOption secret_env;
  secret_env.key = "secret_env";
  secret_env.help = "The webhook signing secret from the environment variable NAME";
  const SinkOption timeout = timeout_option();
  const SinkOption attempts = max_attempts_option();
  k.info.name = "webhook";
  k.info.summary = "an HTTP POST per event, signed with HMAC-SHA256 (Standard Webhooks)";
  k.info.options = {url, secret_file, secret_env, timeout, attempts};
  k.validate = [](const SinkConfig& sink) { (void)webhook_settings(sink); };
  k.make = [](const SinkConfig& sink, const EventCallback*) -> std::unique_ptr<SinkRunner> {
    WebhookSettings s = webhook_settings(sink);
    auto key = load_key(s);
    return std::make_unique<WebhookRunner>(std::move(s), std::move(key));
  };
  k.describe = [](const SinkConfig& sink) {
    const WebhookSettings s = webhook_settings(sink);
    return "POST " + s.url + " (secret from " + (s.secret_file.empty() ? "$" + s.secret_env : s.secret_file) +
           ", timeout " + std::to_string(s.timeout.count()) + " s, at most " + std::to_string(s.max_attempts) +
           " attempts)";
  };
  return k;
}

}  // namespace lifecycle_detail
}  // namespace dpgcert
