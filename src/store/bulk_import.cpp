// Bulk onboarding: a pool of workers, each reading, opening and importing one file at a time.
#include "core/file_io.hpp"

#include <dpgcert/bulk_import.hpp>
#include <dpgcert/pkcs12.hpp>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

namespace dpgcert {

namespace {

/// How many opened files a worker gathers before it writes them in one Store::import_many call
/// (one transaction and one commit for all of them).
constexpr std::size_t kWriteBatch = 16;

/// A file read and opened, waiting for its write.
struct Opened {
  std::size_t index = 0;
  std::vector<std::byte> bytes;
  Pkcs12Bundle bundle;
  ImportOptions options;
};

Error internal_error(const BulkImportItem& item, const char* what) {
  return Error(ErrorCode::internal, std::string("importing '") + item.path.string() + "': " + what);
}

/// Reads and opens one file (the key derivation is the expensive part); the error otherwise.
std::optional<Opened> open_one(BulkImportItem& item, std::size_t index, BulkImportResult& r,
                               const ImportOptions& defaults, const Context& ctx) {
  r.index = index;
  r.path = item.path;
  try {
    std::vector<std::byte> bytes = detail::read_file(item.path, {.limit = ctx.limits().max_input_bytes});
    Pkcs12Bundle bundle = load_pkcs12(bytes, item.password, ctx);
    // What the file holds, not how the tool was called: unsupported, never invalid_argument.
    if (!bundle.leaf()) throw Error(ErrorCode::unsupported, "the file holds no end-entity certificate: nothing to import");
    if (bundle.private_key() == nullptr) throw Error(ErrorCode::unsupported, "the file holds no private key: nothing to import");
    Opened o{index, std::move(bytes), std::move(bundle), defaults};
    if (item.organisation_cvr) o.options.organisation_cvr = item.organisation_cvr;
    if (item.mailbox) o.options.mailbox = item.mailbox;
    std::error_code ec;
    const auto absolute = std::filesystem::absolute(item.path, ec);
    o.options.source = ec ? item.path.string() : absolute.string();
    return o;
  } catch (const Error& e) {
    r.error = e;
  } catch (const std::bad_alloc&) {
    r.error = Error(ErrorCode::internal, "out of memory importing '" + item.path.string() + "'");
  } catch (const std::exception& e) {
    r.error = internal_error(item, e.what());
  }
  item.password = SecretBytes();
  return std::nullopt;
}

/// Writes the opened files in one Store::import_many call and fills in their results; wipes
/// their passwords afterwards.
void write_batch(Store& store, std::vector<Opened>& opened, std::vector<BulkImportItem>& items,
                 std::vector<BulkImportResult>& results) {
  if (opened.empty()) return;
  std::vector<ImportRequest> requests;
  requests.reserve(opened.size());
  for (Opened& o : opened) requests.push_back({&o.bundle, o.bytes, &items[o.index].password, o.options});
  try {
    std::vector<ImportAttempt> attempts = store.import_many(requests);
    for (std::size_t k = 0; k < opened.size(); ++k) {
      BulkImportResult& r = results[opened[k].index];
      r.import = std::move(attempts[k].result);
      r.error = std::move(attempts[k].error);
    }
  } catch (const Error& e) {  // the store as a whole (I/O, a lost connection): nothing of the batch stored
    for (const Opened& o : opened) results[o.index].error = e;
  } catch (const std::bad_alloc&) {
    for (const Opened& o : opened) results[o.index].error = internal_error(items[o.index], "out of memory");
  } catch (const std::exception& e) {
    for (const Opened& o : opened) results[o.index].error = internal_error(items[o.index], e.what());
  }
  // The passwords are not needed any more; wipe them now rather than when the whole run ends.
  for (const Opened& o : opened) items[o.index].password = SecretBytes();
}

}  // namespace

std::vector<BulkImportResult> import_files(Store& store, std::vector<BulkImportItem> items,
                                           const BulkImportOptions& options, const Context& ctx) {
  const std::size_t total = items.size();
  std::vector<BulkImportResult> results(total);
  if (total == 0) return results;
  unsigned threads = options.threads != 0 ? options.threads : std::max(1U, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<std::size_t>(threads, total));

  std::atomic<std::size_t> next{0};
  std::mutex progress_mu;
  std::size_t done = 0;
  auto report = [&](std::size_t index) {
    std::lock_guard lock(progress_mu);
    ++done;
    if (options.progress) {
      try {
        options.progress(done, total, results[index]);
      } catch (...) {
        // A failing progress display must not lose an import that has already been stored.
      }
    }
  };
  // Each worker opens files on its own (in parallel) and writes them in batches: one
  // transaction per batch, the store serialising the writes of the workers.
  auto work = [&] {
    std::vector<Opened> opened;
    auto flush = [&] {
      write_batch(store, opened, items, results);
      for (const Opened& o : opened) report(o.index);
      opened.clear();
    };
    for (std::size_t i = next.fetch_add(1); i < total; i = next.fetch_add(1)) {
      if (auto o = open_one(items[i], i, results[i], options.defaults, ctx)) {
        opened.push_back(std::move(*o));
        if (opened.size() >= kWriteBatch) flush();
      } else {
        report(i);
      }
    }
    flush();
  };

  // The calling thread is one of the workers.
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  try {
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  } catch (const std::system_error&) {
    // Fewer threads than asked for: those that started, and this one, do all the work.
  }
  work();
  for (auto& t : pool) t.join();
  return results;
}

}  // namespace dpgcert
