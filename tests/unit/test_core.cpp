#include <dpgcert/context.hpp>
#include <dpgcert/error.hpp>
#include <dpgcert/secret.hpp>
#include <dpgcert/time.hpp>

#include <doctest/doctest.h>

#include <cstring>
#include <thread>
#include <vector>

using namespace dpgcert;

TEST_SUITE("core") {
  TEST_CASE("error codes have stable names that round-trip") {
    for (int i = 1; i <= 9; ++i) {
      const auto code = static_cast<ErrorCode>(i);
      CHECK(error_code_from_string(to_string(code)) == code);
    }
    CHECK(to_string(ErrorCode::bad_password) == "bad_password");
    CHECK(to_string(ErrorCode::limit_exceeded) == "limit_exceeded");
    CHECK_THROWS_AS((void)error_code_from_string("nope"), Error);
    const Error e(ErrorCode::io, "disk on fire");
    CHECK(e.code() == ErrorCode::io);
    CHECK(std::string(e.what()) == "disk on fire");
  }

  TEST_CASE("SecretBytes owns, moves and wipes") {
    auto s = SecretBytes::from_text("Test1234");
    REQUIRE(s.size() == 8);
    CHECK(s.view() == "Test1234");
    auto c = s.clone();
    CHECK(c.view() == "Test1234");
    CHECK(c.data() != s.data());
    SecretBytes moved = std::move(s);
    CHECK(moved.view() == "Test1234");
    CHECK(s.empty());  // NOLINT(bugprone-use-after-move): moved-from state is specified
    moved.clear();
    CHECK(moved.empty());
    CHECK(moved.data() == nullptr);
    auto z = SecretBytes::zeroed(16);
    REQUIRE(z.size() == 16);
    for (auto b : z.bytes()) CHECK(b == std::byte{0});
    std::byte buf[4] = {std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
    secure_wipe(buf);
    for (auto b : buf) CHECK(b == std::byte{0});
  }

  TEST_CASE("RFC 3339 formatting and parsing") {
    const Time t = from_unix(1748736000);  // 2025-06-01T00:00:00Z
    CHECK(format_rfc3339(t) == "2025-06-01T00:00:00Z");
    CHECK(parse_rfc3339("2025-06-01T00:00:00Z") == t);
    CHECK(parse_rfc3339("2025-06-01") == t);
    CHECK(parse_rfc3339("2025-06-01T02:00:00+02:00") == t);
    CHECK(parse_rfc3339("2025-05-31T23:00:00.123-01:00") == t);
    CHECK(format_rfc3339(from_unix(0)) == "1970-01-01T00:00:00Z");
    CHECK(format_rfc3339(parse_rfc3339("2049-12-31T23:59:59Z")) == "2049-12-31T23:59:59Z");
    for (const char* bad : {"", "2025", "2025-13-01", "2025-02-30", "2025-06-01T25:00:00Z",
                            "2025-06-01T00:00:00", "2025-06-01T00:00:00+0200", "yesterday"}) {
      CAPTURE(bad);
      CHECK_THROWS_AS((void)parse_rfc3339(bad), Error);
    }
  }

  TEST_CASE("FixedClock is what the test says") {
    FixedClock clock(from_unix(100));
    CHECK(to_unix(clock.now()) == 100);
    clock.advance(std::chrono::seconds(50));
    CHECK(to_unix(clock.now()) == 150);
    clock.set(from_unix(7));
    CHECK(to_unix(clock.now()) == 7);
    SystemClock sys;
    CHECK(to_unix(sys.now()) > 1'700'000'000);
  }

  TEST_CASE("Context loads legacy and default providers privately") {
    const Context ctx;
    CHECK(ctx.legacy_available());
    CHECK(ctx.native_handle() != nullptr);
    CHECK(ctx.limits().max_input_bytes == 1024 * 1024);
    Limits small;
    small.max_iterations = 10;
    const Context tight(small);
    CHECK(tight.limits().max_iterations == 10);
    CHECK(tight.native_handle() != ctx.native_handle());
    CHECK(&Context::shared() == &Context::shared());
  }

  TEST_CASE("Contexts can be created from several threads") {
    std::vector<std::thread> threads;
    std::vector<int> ok(8, 0);
    for (int i = 0; i < 8; ++i) {
      threads.emplace_back([&ok, i] {
        const Context c;
        ok[static_cast<std::size_t>(i)] = c.legacy_available() ? 1 : 0;
      });
    }
    for (auto& t : threads) t.join();
    for (int v : ok) CHECK(v == 1);
  }
}
