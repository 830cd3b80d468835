// libcurl plumbing shared by the sinks and the revocation fetcher (see curl_support.hpp).
#include "core/net/curl_support.hpp"

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

namespace dpgcert::net_detail {
namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { (void)curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

CurlEasy::CurlEasy() {
  global_init();
  handle_ = curl_easy_init();
  if (handle_ == nullptr) return;
  curl_easy_setopt(handle_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle_, CURLOPT_ERRORBUFFER, errors_.data());
  curl_easy_setopt(handle_, CURLOPT_NOPROXY, "127.0.0.1,localhost,::1");
}

CurlEasy::~CurlEasy() {
  if (handle_ != nullptr) curl_easy_cleanup(handle_);
}

UrlParts url_parts(const std::string& url) {
  UrlParts out;
  const std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), &curl_url_cleanup);
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return out;
  auto part = [&](CURLUPart which, std::string& into) {
    char* text = nullptr;
    if (curl_url_get(u.get(), which, &text, 0) != CURLUE_OK || text == nullptr) return false;
    into = text;
    curl_free(text);
    return true;
  };
  if (!part(CURLUPART_SCHEME, out.scheme) || !part(CURLUPART_HOST, out.host) || out.host.empty()) return out;
  out.scheme = lower(out.scheme);
  out.host = lower(out.host);
  if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']') out.host = out.host.substr(1, out.host.size() - 2);
  std::string ignored;
  out.has_credentials = part(CURLUPART_USER, ignored) || part(CURLUPART_PASSWORD, ignored);
  out.valid = true;
  return out;
}

bool is_loopback_host(const std::string& host) {
  // 127.0.0.0/8 as an address, not a name that merely starts so ("127.example.net").
  const bool ipv4_loopback = host.starts_with("127.") && std::count(host.begin(), host.end(), '.') == 3 &&
                             std::all_of(host.begin(), host.end(), [](char c) { return c == '.' || (c >= '0' && c <= '9'); });
  return host == "localhost" || host == "::1" || ipv4_loopback;
}

void restrict_protocols(CURL* handle, const char* protocols) {
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, protocols);
  curl_easy_setopt(handle, CURLOPT_REDIR_PROTOCOLS_STR, protocols);
}

std::string transport_error(CURLcode rc, const std::string& detail, std::chrono::seconds timeout) {
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    std::string out = "timed out after ";  // appended piece by piece: GCC 12 -O3's false -Wrestrict
    out += std::to_string(timeout.count());
    out += " s";
    return out;
  }
  std::string out = curl_easy_strerror(rc);
  if (!detail.empty()) {
    out += ": ";
    out += detail;
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

}  // namespace dpgcert::net_detail
