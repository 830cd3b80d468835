// One bounded HTTP exchange over libcurl (see http_fetch.hpp).
#include "core/net/http_fetch.hpp"

#include "core/net/curl_support.hpp"

#include <algorithm>
#include <cctype>
#include <memory>
#include <string_view>

namespace dpgcert::net_detail {
namespace {

struct Received {
  std::size_t max = 0;
  bool over = false;
  std::vector<std::byte> body;
  std::string etag;
  std::string last_modified;
};

// A chunked body announces no length, so the cap is enforced here as the bytes arrive; returning
// less than given stops the transfer.
std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  auto* r = static_cast<Received*>(user);
  const std::size_t len = size * n;
  if (r->body.size() + len > r->max) {
    r->over = true;
    return 0;
  }
  const auto* p = reinterpret_cast<const std::byte*>(data);
  r->body.insert(r->body.end(), p, p + len);
  return len;
}

std::string header_value(std::string_view line, std::string_view name) {
  if (line.size() <= name.size()) return {};
  std::string head(line.substr(0, name.size()));
  std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (head != name) return {};
  std::string_view v = line.substr(name.size());
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.remove_suffix(1);
  return std::string(v.substr(0, 200));
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* r = static_cast<Received*>(user);
  const std::string_view line(data, size * n);
  // A redirect's headers come first; only the final answer's count, so a new status line resets.
  if (line.starts_with("HTTP/")) {
    r->etag.clear();
    r->last_modified.clear();
  }
  if (std::string v = header_value(line, "etag:"); !v.empty()) r->etag = std::move(v);
  if (std::string v = header_value(line, "last-modified:"); !v.empty()) r->last_modified = std::move(v);
  return size * n;
}

std::string millis_text(std::chrono::milliseconds ms) {
  std::string out = "timed out after ";
  if (ms.count() % 1000 == 0) {
    out += std::to_string(ms.count() / 1000);
    out += " s";
  } else {
    out += std::to_string(ms.count());
    out += " ms";
  }
  return out;
}

}  // namespace

FetchResponse http_fetch(const FetchRequest& request) {
  FetchResponse out;
  auto fail = [&out](FetchFailure why, std::string text) {
    out.failure = why;
    out.error = std::move(text);
    return out;
  };
  const UrlParts parts = url_parts(request.url);
  if (!parts.valid) return fail(FetchFailure::bad_url, "not a URL");
  if (parts.scheme != "http" && parts.scheme != "https") {
    std::string text = "only http and https are fetched, not ";
    text += parts.scheme;
    return fail(FetchFailure::bad_url, std::move(text));
  }
  CurlEasy curl;
  if (!curl) return fail(FetchFailure::transport, "cannot start an HTTP client");
  curl_slist* headers = nullptr;
  std::vector<std::string> lines = request.headers;
  if (!request.if_none_match.empty()) lines.push_back("If-None-Match: " + request.if_none_match);
  if (!request.if_modified_since.empty()) lines.push_back("If-Modified-Since: " + request.if_modified_since);
  if (request.post_body) lines.push_back("Content-Type: " + request.content_type);
  for (const std::string& line : lines) {
    if (line.find_first_of("\r\n") != std::string::npos) {
      curl_slist_free_all(headers);
      return fail(FetchFailure::bad_url, "a header holds a line break");
    }
    headers = curl_slist_append(headers, line.c_str());
  }
  const std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_list(headers, &curl_slist_free_all);
  Received received;
  received.max = request.max_bytes;
  CURL* h = curl.get();
  restrict_protocols(h, "http,https");
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  if (request.post_body) {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.post_body->data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.post_body->size()));
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "dpgcert");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, request.max_redirects > 0 ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, request.max_redirects);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  // Refuses at once a body whose Content-Length passes the cap; a chunked one is stopped in on_body.
  curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(request.max_bytes));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &received);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &received);
  const CURLcode rc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out.status);
  curl_easy_getinfo(h, CURLINFO_REDIRECT_COUNT, &out.redirects);
  char* effective = nullptr;
  if (curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &effective) == CURLE_OK && effective != nullptr) out.effective_url = effective;
  char* type = nullptr;
  if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type != nullptr) out.content_type = type;
  const std::string cap = "the answer passed the limit of " + std::to_string(request.max_bytes) + " bytes";
  if (rc == CURLE_FILESIZE_EXCEEDED || (rc == CURLE_WRITE_ERROR && received.over)) {
    return fail(FetchFailure::too_large, cap);
  }
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    // The connect timeout ends the same way; say which limit it was.
    std::string text = millis_text(out.status == 0 && request.connect_timeout < request.timeout ? request.connect_timeout : request.timeout);
    return fail(FetchFailure::timeout, std::move(text));
  }
  if (rc == CURLE_TOO_MANY_REDIRECTS) {
    return fail(FetchFailure::too_many_redirects, "more than " + std::to_string(request.max_redirects) + " redirects");
  }
  if (rc == CURLE_UNSUPPORTED_PROTOCOL) return fail(FetchFailure::bad_url, "redirected to a scheme other than http or https");
  if (rc != CURLE_OK) return fail(FetchFailure::transport, transport_error(rc, curl.error_text(), std::chrono::seconds(0)));
  const bool conditional = !request.if_none_match.empty() || !request.if_modified_since.empty();
  if (out.status != 200 && !(conditional && out.status == 304)) {
    return fail(FetchFailure::http_status, "HTTP status " + std::to_string(out.status));
  }
  out.body = std::move(received.body);
  out.etag = std::move(received.etag);
  out.last_modified = std::move(received.last_modified);
  return out;
}

}  // namespace dpgcert::net_detail
