// Bulk onboarding: a pool of workers, each reading and opening files (the key derivation is the
// expensive part) and handing them to the store in batches, one write transaction per batch.
#include "core/file_io.hpp"
#include "store/import_plan.hpp"
#include "pkcs12/bundle_impl.hpp"

#include <dpgcert/bulk_import.hpp>
#include <dpgcert/pkcs12.hpp>
#include <dpgcert/validation.hpp>

#include <algorithm>
#include <atomic>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <string_view>
#include <thread>
#include <unordered_map>

namespace dpgcert {

namespace {

/// Files a worker opens before it hands them to the store in one Store::import_many() call: one
/// write transaction and one commit for all of them instead of one each. Each file is still
/// written in a savepoint of its own (one that fails is undone alone), and a batch whose
/// transaction fails stores none of its files and reports the error on each.
constexpr std::size_t kBatch = 32;

/// Distinct chain certificates kept by a CertificatePool; beyond it, new ones are not pooled.
constexpr std::size_t kPoolLimit = 256;

std::string_view der_text(const Certificate& c) noexcept {
  const auto der = c.der();
  return {reinterpret_cast<const char*>(der.data()), der.size()};
}

/// The chain certificates seen so far in this bulk import, by their DER. The customers' files of
/// one onboarding carry the same issuing CA and root over and over; a certificate found here
/// replaces the file's own copy of the same bytes, so that each is parsed (and its public key
/// decoded, its extensions cached by OpenSSL) once per import instead of once per file, and the
/// trust anchors' own parsed copies are the ones the validation meets. Certificates are immutable
/// values, safe to share between threads; equal bytes are the same certificate.
class CertificatePool {
 public:
  explicit CertificatePool(const ImportOptions& defaults) {
    if (!defaults.validation.anchors) return;
    for (const Certificate& c : defaults.validation.anchors->certificates()) add(c);
  }

  /// Replaces the chain certificates of `bundle` (never its leaf) with pooled equal ones.
  void share(Pkcs12Bundle& bundle) {
    // The bundle was made by this worker a moment ago and is not shared yet.
    auto& impl = const_cast<Pkcs12Bundle::Impl&>(bundle.impl());
    std::lock_guard lock(mu_);
    for (Certificate& c : impl.chain) c = pooled(c);
    for (Pkcs12Certificate& pc : impl.certificates) {
      if (!impl.leaf || !(pc.certificate == *impl.leaf)) pc.certificate = pooled(pc.certificate);
    }
  }

 private:
  void add(const Certificate& c) {
    if (by_der_.size() < kPoolLimit) by_der_.emplace(der_text(c), c);  // the key views the pooled value's DER
  }
  Certificate pooled(const Certificate& c) {
    const auto it = by_der_.find(der_text(c));
    if (it != by_der_.end()) return it->second;
    add(c);
    return c;
  }

  std::mutex mu_;
  std::unordered_map<std::string_view, Certificate> by_der_;
};

/// A file read and opened, waiting in a worker's batch for the store.
struct Opened {
  std::size_t index = 0;
  std::vector<std::byte> bytes;
  std::optional<Pkcs12Bundle> bundle;
  ImportOptions options;
};

Error error_of(const BulkImportItem& item, std::exception_ptr e) {
  try {
    std::rethrow_exception(std::move(e));
  } catch (const Error& err) {
    return err;
  } catch (const std::bad_alloc&) {
    return Error(ErrorCode::internal, "out of memory importing '" + item.path.string() + "'");
  } catch (const std::exception& ex) {
    return Error(ErrorCode::internal, "importing '" + item.path.string() + "': " + ex.what());
  } catch (...) {
    return Error(ErrorCode::internal, "importing '" + item.path.string() + "': unknown failure");
  }
}

/// Reads and opens one file; the options it is to be imported with.
Opened open_one(BulkImportItem& item, std::size_t index, const ImportOptions& defaults, CertificatePool& pool,
                const Context& ctx) {
  Opened o;
  o.index = index;
  o.bytes = detail::read_file(item.path, {.limit = ctx.limits().max_input_bytes});
  o.bundle.emplace(load_pkcs12(o.bytes, item.password, ctx));
  // What the file holds, not how the tool was called: unsupported, never invalid_argument.
  if (!o.bundle->leaf()) throw Error(ErrorCode::unsupported, "the file holds no end-entity certificate: nothing to import");
  if (o.bundle->private_key() == nullptr) throw Error(ErrorCode::unsupported, "the file holds no private key: nothing to import");
  pool.share(*o.bundle);
  o.options = defaults;
  if (item.organisation_cvr) o.options.organisation_cvr = item.organisation_cvr;
  if (item.mailbox) o.options.mailbox = item.mailbox;
  std::error_code ec;
  const auto absolute = std::filesystem::absolute(item.path, ec);
  o.options.source = ec ? item.path.string() : absolute.string();
  return o;
}

}  // namespace

std::vector<BulkImportResult> import_files(Store& store, std::vector<BulkImportItem> items,
                                           const BulkImportOptions& options, const Context& ctx) {
  const std::size_t total = items.size();
  std::vector<BulkImportResult> results(total);
  if (total == 0) return results;
  for (std::size_t i = 0; i < total; ++i) {
    results[i].index = i;
    results[i].path = items[i].path;
  }
  unsigned threads = options.threads != 0 ? options.threads : std::max(1U, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<std::size_t>(threads, total));
  // Batches are consecutive items. No more per batch than each worker's share, so that a small
  // import is not held back.
  const std::size_t batch_size = std::clamp<std::size_t>((total + threads - 1) / threads, 1, kBatch);
  const std::size_t batches = (total + batch_size - 1) / batch_size;

  CertificatePool pool(options.defaults);
  std::mutex progress_mu;
  std::size_t done = 0;
  const auto finished = [&](std::size_t i) {
    // The password is not needed any more; wipe it now rather than when the whole import ends.
    items[i].password = SecretBytes();
    std::lock_guard lock(progress_mu);
    ++done;
    if (options.progress) {
      try {
        options.progress(done, total, results[i]);
      } catch (...) {
        // A failing progress display must not lose an import that has already been stored.
      }
    }
  };

  // A batch opened and validated by a worker, waiting for its turn to be written.
  struct Ready {
    std::vector<Opened> opened;
    std::vector<ImportRequest> requests;  ///< Borrow from `opened` and `items`.
    store_detail::StagedImportsPtr staged;
    std::exception_ptr failed;
  };
  const auto fail_all = [&](const Ready& r, const std::exception_ptr& e) {
    for (const Opened& o : r.opened) results[o.index].error = error_of(items[o.index], e);
  };
  // The store sees the batches in input order, whatever the number of workers, so the outcome
  // (lineage, the events a renewal announces) is the one of a single worker. Whoever finds the
  // next batch ready writes it, and any ready after it; the others go on opening files.
  std::mutex order_mu;
  std::map<std::size_t, Ready> ready;
  std::size_t next_write = 0;
  bool writing = false;
  const auto write = [&](Ready& r) {
    try {
      if (r.failed) std::rethrow_exception(r.failed);
      if (r.staged) {
        std::vector<ImportAttempt> attempts = store_detail::write_imports(store, *r.staged);
        for (std::size_t k = 0; k < r.opened.size(); ++k) {
          BulkImportResult& res = results[r.opened[k].index];
          if (attempts[k].error) {
            res.error = std::move(attempts[k].error);
          } else {
            res.import = std::move(attempts[k].result);
          }
        }
      }
    } catch (...) {
      // The batch's transaction failed as a whole (I/O, a lost connection): none of it is stored.
      fail_all(r, std::current_exception());
    }
    for (const Opened& o : r.opened) finished(o.index);
  };

  std::atomic<std::size_t> next_batch{0};
  auto work = [&] {
    for (std::size_t b = next_batch.fetch_add(1); b < batches; b = next_batch.fetch_add(1)) {
      Ready r;
      const std::size_t end = std::min(total, (b + 1) * batch_size);
      r.opened.reserve(end - b * batch_size);
      for (std::size_t i = b * batch_size; i < end; ++i) {
        try {
          r.opened.push_back(open_one(items[i], i, options.defaults, pool, ctx));
        } catch (...) {
          results[i].error = error_of(items[i], std::current_exception());
          finished(i);
        }
      }
      r.requests.resize(r.opened.size());
      for (std::size_t k = 0; k < r.opened.size(); ++k) {
        r.requests[k].bundle = &*r.opened[k].bundle;
        r.requests[k].pkcs12 = r.opened[k].bytes;
        r.requests[k].password = &items[r.opened[k].index].password;
        r.requests[k].options = std::move(r.opened[k].options);
      }
      // Validation, on this worker, outside the store's lock.
      if (!r.requests.empty()) {
        try {
          r.staged = store_detail::stage_imports(store, r.requests);
        } catch (...) {
          r.failed = std::current_exception();
        }
      }
      std::unique_lock lock(order_mu);
      ready.emplace(b, std::move(r));
      if (writing) continue;
      writing = true;
      for (auto it = ready.find(next_write); it != ready.end(); it = ready.find(next_write)) {
        Ready mine = std::move(it->second);
        ready.erase(it);
        ++next_write;
        lock.unlock();
        write(mine);
        lock.lock();
      }
      writing = false;
    }
  };

  // The calling thread is one of the workers.
  std::vector<std::thread> pool_threads;
  pool_threads.reserve(threads - 1);
  try {
    for (unsigned t = 1; t < threads; ++t) pool_threads.emplace_back(work);
  } catch (const std::system_error&) {
    // Fewer threads than asked for: those that started, and this one, do all the work.
  }
  work();
  for (auto& t : pool_threads) t.join();
  return results;
}

}  // namespace dpgcert
