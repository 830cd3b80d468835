// A small HTTP client over libcurl for the sinks that post (webhook): one POST, no redirects,
// http/https only, bounded time and response size, Retry-After read. Private to the lifecycle layer.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace dpgcert::lifecycle_detail {

/// One POST.
struct HttpRequest {
  std::string url;
  std::string body;
  std::vector<std::string> headers;  ///< "Name: value" lines (no CR or LF: refused).
  std::chrono::seconds timeout{30};  ///< For the whole request, connecting included.
};

/// What came back.
struct HttpResponse {
  long status = 0;              ///< The HTTP status; 0 when no response came (transport_error says why).
  std::string transport_error;  ///< "cannot connect to ...", "timed out after 30 s", ...
  std::optional<std::chrono::seconds> retry_after;  ///< From Retry-After (seconds or an HTTP date).
};

/// Why `url` cannot be posted to, or nothing: it must parse, be http or https, carry no user name
/// or password, and use http only towards the loopback host (127.0.0.1, ::1, localhost).
[[nodiscard]] std::optional<std::string> check_http_url(const std::string& url);

/// POSTs the request and reads the status. Never follows redirects; the response body is read
/// and dropped (at most 64 KiB); a proxy comes from the usual environment variables except for the
/// loopback host. Never throws for transport problems (they are in the response).
[[nodiscard]] HttpResponse http_post(const HttpRequest& request);

/// Seconds until the time in a Retry-After value (delta seconds or an HTTP date) from `now_unix`;
/// nothing for text that is neither. Never negative.
[[nodiscard]] std::optional<std::chrono::seconds> parse_retry_after(const std::string& value, long long now_unix);

}  // namespace dpgcert::lifecycle_detail
