// The sinks' HTTP client over libcurl (see http_client.hpp).
#include "lifecycle/sinks/http_client.hpp"

#include "lifecycle/sinks/curl_support.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <memory>

namespace dpgcert::lifecycle_detail {
namespace {

constexpr std::size_t kMaxBody = 64 * 1024;

struct Received {
  std::size_t body = 0;
  std::string retry_after;
};

std::size_t on_body(char*, std::size_t size, std::size_t n, void* user) {
  auto* r = static_cast<Received*>(user);
  r->body += size * n;
  return r->body > kMaxBody ? 0 : size * n;  // 0 stops the transfer: the status is known by now
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* r = static_cast<Received*>(user);
  const std::string_view line(data, size * n);
  constexpr std::string_view name = "retry-after:";
  if (line.size() > name.size()) {
    std::string head(line.substr(0, name.size()));
    std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (head == name) {
      std::string_view v = line.substr(name.size());
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.remove_suffix(1);
      r->retry_after = std::string(v.substr(0, 100));
    }
  }
  return size * n;
}

}  // namespace

std::optional<std::string> check_http_url(const std::string& url) {
  const UrlParts p = url_parts(url);
  if (!p.valid) return "\"" + url + "\" is not a URL";
  if (p.scheme != "http" && p.scheme != "https") return "a webhook URL is http or https, not " + p.scheme;
  if (p.has_credentials) return "a webhook URL must not hold a user name or password";
  if (p.scheme == "http" && !is_loopback_host(p.host)) {
    return "plain http is allowed only to 127.0.0.1, ::1 or localhost; use https for " + p.host;
  }
  return std::nullopt;
}

std::optional<std::chrono::seconds> parse_retry_after(const std::string& value, long long now_unix) {
  if (value.empty()) return std::nullopt;
  long long n = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec == std::errc() && end == value.data() + value.size()) return std::chrono::seconds(std::max(n, 0LL));
  const time_t at = curl_getdate(value.c_str(), nullptr);
  if (at < 0) return std::nullopt;
  return std::chrono::seconds(std::max<long long>(static_cast<long long>(at) - now_unix, 0));
}

HttpResponse http_post(const HttpRequest& request) {
  HttpResponse out;
  CurlEasy curl;
  if (!curl) {
    out.transport_error = "cannot start an HTTP client";
    return out;
  }
  Received received;
  curl_slist* headers = nullptr;
  for (const std::string& h : request.headers) {
    if (h.find_first_of("\r\n") != std::string::npos) {
      curl_slist_free_all(headers);
      out.transport_error = "a header holds a line break";
      return out;
    }
    headers = curl_slist_append(headers, h.c_str());
  }
  const std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_list(headers, &curl_slist_free_all);
  CURL* h = curl.get();
  restrict_protocols(h, "http,https");
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "dpgcert");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count() * 1000));
  curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(kMaxBody));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &received);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &received);
  const CURLcode rc = curl_easy_perform(h);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  const bool body_capped = rc == CURLE_WRITE_ERROR || rc == CURLE_FILESIZE_EXCEEDED;
  if (status == 0 || (rc != CURLE_OK && !body_capped)) {
    out.status = 0;
    out.transport_error = transport_error(rc, curl.error_text(), request.timeout);
    return out;
  }
  out.status = status;
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
  out.retry_after = parse_retry_after(received.retry_after, now.count());
  return out;
}

}  // namespace dpgcert::lifecycle_detail
