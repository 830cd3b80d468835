// libcurl plumbing shared by what speaks HTTP or SMTP (the webhook and smtp sinks in lifecycle, the
// revocation fetcher in validation): one easy handle with the library initialised once, URLs taken
// apart, transport errors in words. In core so that both layers reach it; private (no public header
// includes it), and no curl type leaves dpgcert.
#pragma once

#include <curl/curl.h>

#include <array>
#include <chrono>
#include <string>

namespace dpgcert::net_detail {

/// A curl easy handle with dpgcert's defaults: no signals, an error buffer, no proxy towards the
/// loopback host (a proxy for others from the usual environment variables).
class CurlEasy {
 public:
  CurlEasy();
  ~CurlEasy();
  CurlEasy(const CurlEasy&) = delete;
  CurlEasy& operator=(const CurlEasy&) = delete;
  explicit operator bool() const noexcept { return handle_ != nullptr; }
  [[nodiscard]] CURL* get() const noexcept { return handle_; }
  /// What curl wrote into the error buffer (may be empty).
  [[nodiscard]] std::string error_text() const { return std::string(errors_.data()); }

 private:
  CURL* handle_ = nullptr;
  std::array<char, CURL_ERROR_SIZE + 1> errors_{};
};

/// A URL taken apart by curl's parser.
struct UrlParts {
  bool valid = false;
  std::string scheme;  ///< Lowercase.
  std::string host;    ///< Without brackets.
  bool has_credentials = false;
};

[[nodiscard]] UrlParts url_parts(const std::string& url);
/// 127.0.0.1 (any 127.x), ::1 or localhost.
[[nodiscard]] bool is_loopback_host(const std::string& host);
/// Allows only the given protocols ("http,https"), for the request and any redirect.
void restrict_protocols(CURL* handle, const char* protocols);
/// A transport failure in one line: "cannot connect to ...", "timed out after N s", curl's words.
[[nodiscard]] std::string transport_error(CURLcode rc, const std::string& detail, std::chrono::seconds timeout);

}  // namespace dpgcert::net_detail
