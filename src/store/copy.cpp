// Copying a whole store to another location, of the same or another backend: every row as it is
// (ids, sealed secrets and the master-key header included, so the copy opens with the same key
// source and no secret is ever unsealed), in one write transaction of the destination.
#include "store/backend_registry.hpp"
#include "store/store_impl.hpp"

#include <dpgcert/error.hpp>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>

namespace dpgcert {
namespace {

/// Tables in the order they are copied: parents first (foreign keys are checked at the commit
/// anyway). Tables a backend adds that are not named here follow in name order.
constexpr std::array<std::string_view, 17> kCopyOrder = {
    "master_key", "organisations", "contacts", "mailboxes", "certificates", "certificate_documents", "secrets",
    "token_keys", "audit_log",  "renewal_policies", "lifecycle", "lifecycle_pending", "events", "sinks", "deliveries",
    "lifecycle_counters", "settings"};

constexpr std::size_t kBatch = 500;

/// SHA-256 of a stream of bytes.
class Sha256 final {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) {
      EVP_MD_CTX_free(ctx_);
      throw Error(ErrorCode::internal, "store copy: SHA-256 is not available");
    }
  }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void add(const void* p, std::size_t n) { EVP_DigestUpdate(ctx_, p, n); }
  void add_sized(const void* p, std::size_t n) {
    const auto size = static_cast<std::uint64_t>(n);
    add(&size, sizeof size);
    add(p, n);
  }
  [[nodiscard]] std::array<unsigned char, 32> finish() {
    std::array<unsigned char, 32> out{};
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, out.data(), &len);
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

/// What a table holds, independent of row and column order: the number of rows and the sum of
/// the rows' SHA-256 values (columns taken in name order, each cell tagged by its type).
struct TableDigest {
  std::size_t rows = 0;
  std::array<std::uint64_t, 4> sum{};
  bool operator==(const TableDigest&) const = default;

  void add(const store::TableRows& batch, const std::vector<std::size_t>& order) {
    for (const auto& row : batch.rows) {
      Sha256 h;
      for (const std::size_t c : order) {
        const store::Cell& cell = row[c];
        const auto tag = static_cast<unsigned char>(cell.index());
        h.add(&tag, 1);
        if (const auto* v = std::get_if<std::int64_t>(&cell)) {
          h.add(v, sizeof *v);
        } else if (const auto* t = std::get_if<std::string>(&cell)) {
          h.add_sized(t->data(), t->size());
        } else if (const auto* b = std::get_if<std::vector<std::byte>>(&cell)) {
          h.add_sized(b->data(), b->size());
        }
      }
      const auto d = h.finish();
      for (std::size_t i = 0; i < sum.size(); ++i) {
        std::uint64_t part = 0;
        std::memcpy(&part, d.data() + 8 * i, 8);
        sum[i] += part;
      }
      ++rows;
    }
  }
};

/// Column positions of a batch in name order.
std::vector<std::size_t> name_order(const store::TableRows& batch) {
  std::vector<std::size_t> order(batch.columns.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return batch.columns[a] < batch.columns[b]; });
  return order;
}

/// Reads a whole table into a digest.
TableDigest digest_of(store::Transaction& tx, const std::string& table) {
  TableDigest d;
  tx.read_table(table, kBatch, [&](const store::TableRows& batch) { d.add(batch, name_order(batch)); });
  return d;
}

/// The certificates' fingerprints in id order, hashed, as lowercase hex.
std::string fingerprint_digest(store::Transaction& tx, std::size_t& count) {
  Sha256 h;
  count = 0;
  tx.read_table("certificates", kBatch, [&](const store::TableRows& batch) {
    const auto at = std::find(batch.columns.begin(), batch.columns.end(), "fingerprint");
    if (at == batch.columns.end()) throw Error(ErrorCode::malformed, "store copy: certificates have no fingerprint column");
    const auto column = static_cast<std::size_t>(at - batch.columns.begin());
    for (const auto& row : batch.rows) {
      const auto* fp = std::get_if<std::string>(&row[column]);
      if (fp == nullptr) throw Error(ErrorCode::malformed, "store copy: a certificate has no fingerprint");
      h.add_sized(fp->data(), fp->size());
      ++count;
    }
  });
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (const unsigned char c : h.finish()) {
    hex += kHex[c >> 4];
    hex += kHex[c & 15];
  }
  return hex;
}

/// The tables to copy, in copy order. Error(unsupported) when the source holds rows in a table the
/// destination lacks.
std::vector<std::string> plan_tables(store::Transaction& src, store::Transaction& dst) {
  const std::vector<std::string> source = src.table_names();
  const std::vector<std::string> target = dst.table_names();
  const auto in = [](const std::vector<std::string>& v, std::string_view n) {
    return std::find(v.begin(), v.end(), n) != v.end();
  };
  std::vector<std::string> order;
  for (const std::string_view t : kCopyOrder) {
    if (in(source, t)) order.emplace_back(t);
  }
  for (const auto& t : source) {
    if (!in(order, t)) order.push_back(t);
  }
  std::vector<std::string> tables;
  for (const auto& t : order) {
    if (in(target, t)) {
      tables.push_back(t);
      continue;
    }
    bool rows = false;
    src.read_table(t, 1, [&](const store::TableRows& b) { rows = rows || !b.rows.empty(); });
    if (rows) {
      throw Error(ErrorCode::unsupported,
                  "store copy: the destination's backend has no table '" + t + "', which holds rows in the source");
    }
  }
  return tables;
}

/// Whether two locations name one store: the same SQLite file (however it is spelt), or the same
/// location text of another backend.
bool same_store(const StoreOptions& a, const StoreOptions& b) {
  const auto text = [](const StoreOptions& o) { return o.location.empty() ? o.path.string() : o.location; };
  const auto fa = sqlite_file_of(text(a));
  const auto fb = sqlite_file_of(text(b));
  if (fa && fb) {
    std::error_code ec;
    if (std::filesystem::equivalent(*fa, *fb, ec)) return true;
    return std::filesystem::weakly_canonical(*fa, ec) == std::filesystem::weakly_canonical(*fb, ec);
  }
  return !fa && !fb && text(a) == text(b);
}

}  // namespace

CopyResult Store::copy_to(const StoreOptions& destination, std::string_view actor) const {
  Impl& s = *impl_;
  const std::string who = s.actor_or_default(actor);
  std::lock_guard lock(s.mu);
  if (same_store(s.options, destination)) {
    throw Error(ErrorCode::invalid_argument, "store copy: source and destination are the same store");
  }
  std::unique_ptr<store::Backend> target = store::open_backend(destination, true);
  CopyResult result;
  result.destination = target->location();
  try {
    if (target->latest_schema_version() != s.backend->latest_schema_version()) {
      throw Error(ErrorCode::unsupported, "store copy: the backends write different schema versions");
    }
    store::RowCounts source_counts;
    std::string source_fingerprints;
    s.transact(false, [&](store::Transaction& src) {
      if (src.schema_version() != s.backend->latest_schema_version()) {
        throw Error(ErrorCode::conflict, "store copy: the source's schema is not the current one (open it once to migrate)");
      }
      source_counts = src.counts();
      result.tables.clear();
      store::transact(*target, true, [&](store::Transaction& dst) {
        const int version = dst.schema_version();
        if (version >= 0) {
          const auto c = dst.counts();
          if (dst.key_header() || c.organisations + c.mailboxes + c.certificates > 0) {
            throw Error(ErrorCode::conflict, "store copy: '" + result.destination + "' holds a store already");
          }
          if (version != target->latest_schema_version()) {
            throw Error(ErrorCode::conflict, "store copy: '" + result.destination + "' has an older, empty schema");
          }
        } else {
          dst.create_schema(s.now());
        }
        dst.begin_copy();
        const std::vector<std::string> tables = plan_tables(src, dst);
        for (const auto& table : tables) {
          TableDigest read;
          std::vector<std::size_t> order;
          src.read_table(table, kBatch, [&](const store::TableRows& batch) {
            if (order.empty()) order = name_order(batch);
            read.add(batch, order);
            dst.write_rows(table, batch);
          });
          // Read back inside the transaction, before anything commits: every row as it was.
          const TableDigest written = digest_of(dst, table);
          if (!(written == read)) {
            throw Error(ErrorCode::internal, "store copy: table '" + table + "' reads back differently (" +
                                                 std::to_string(written.rows) + " of " + std::to_string(read.rows) +
                                                 " rows); nothing was copied");
          }
          result.tables.push_back({table, read.rows});
        }
        dst.end_copy();
        source_fingerprints = fingerprint_digest(src, result.certificates);
        s.audit(dst, s.now(), who, "store.copy", "store", result.destination,
                    {{"from", s.backend->location()}, {"from_backend", s.backend->name()},
                     {"certificates", result.certificates}});
      });
    });
    // After the commit: the destination, read afresh, has the source's counts and fingerprints.
    std::size_t copied = 0;
    std::string copied_fingerprints;
    store::RowCounts copied_counts;
    store::transact(*target, false, [&](store::Transaction& dst) {
      copied_counts = dst.counts();
      copied_fingerprints = fingerprint_digest(dst, copied);
    });
    if (copied != result.certificates || copied_fingerprints != source_fingerprints ||
        copied_counts.organisations != source_counts.organisations ||
        copied_counts.mailboxes != source_counts.mailboxes) {
      throw Error(ErrorCode::internal, "store copy: '" + result.destination +
                                           "' does not read back as the source after the commit");
    }
    result.fingerprint_digest = source_fingerprints;
    return result;
  } catch (...) {
    target->abandon();
    throw;
  }
}

}  // namespace dpgcert
