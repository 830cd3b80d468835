// Bulk onboarding: a pool of workers, each reading, opening and importing one file at a time.
#include "core/file_io.hpp"

#include <dpgcert/bulk_import.hpp>
#include <dpgcert/pkcs12.hpp>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

namespace dpgcert {

namespace {

BulkImportResult import_one(Store& store, BulkImportItem& item, std::size_t index, const ImportOptions& defaults,
                            const Context& ctx) {
  BulkImportResult r;
  r.index = index;
  r.path = item.path;
  try {
    const auto bytes = detail::read_file(item.path, {.limit = ctx.limits().max_input_bytes});
    const Pkcs12Bundle bundle = load_pkcs12(bytes, item.password, ctx);
    // What the file holds, not how the tool was called: unsupported, never invalid_argument.
    if (!bundle.leaf()) throw Error(ErrorCode::unsupported, "the file holds no end-entity certificate: nothing to import");
    if (bundle.private_key() == nullptr) throw Error(ErrorCode::unsupported, "the file holds no private key: nothing to import");
    ImportOptions o = defaults;
    if (item.organisation_cvr) o.organisation_cvr = item.organisation_cvr;
    if (item.mailbox) o.mailbox = item.mailbox;
    std::error_code ec;
    const auto absolute = std::filesystem::absolute(item.path, ec);
    o.source = ec ? item.path.string() : absolute.string();
    r.import = store.import(bundle, bytes, item.password, o);
  } catch (const Error& e) {
    r.error = e;
  } catch (const std::bad_alloc&) {
    r.error = Error(ErrorCode::internal, "out of memory importing '" + item.path.string() + "'");
  } catch (const std::exception& e) {
    r.error = Error(ErrorCode::internal, "importing '" + item.path.string() + "': " + e.what());
  }
  // The password is not needed any more; wipe it now rather than when the batch ends.
  item.password = SecretBytes();
  return r;
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
  auto work = [&] {
    for (std::size_t i = next.fetch_add(1); i < total; i = next.fetch_add(1)) {
      results[i] = import_one(store, items[i], i, options.defaults, ctx);
      std::lock_guard lock(progress_mu);
      ++done;
      if (options.progress) {
        try {
          options.progress(done, total, results[i]);
        } catch (...) {
          // A failing progress display must not lose an import that has already been stored.
        }
      }
    }
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
