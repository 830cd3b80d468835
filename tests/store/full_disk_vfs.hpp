// Test-only: an SQLite VFS that wraps the default one and answers SQLITE_FULL to every write once a
// byte budget is spent, registered as the default VFS for the object's lifetime, so a Store opened
// meanwhile sees a disk that fills up in the middle of a transaction. No privileged mount needed.
// libsqlite3 is looked up with dlsym, as in sqlite_shim.hpp.
#pragma once

#include <sqlite3.h>

#include <dlfcn.h>

#include <atomic>
#include <cstring>
#include <stdexcept>

namespace dpgcert::testing {

class FullDiskVfs {
 public:
  /// Registers the VFS as the default; writes succeed until `budget_bytes` have been written
  /// (counting from now), then fail with SQLITE_FULL.
  explicit FullDiskVfs(long long budget_bytes) {
    void* lib = ::dlopen("libsqlite3.so.0", RTLD_NOW | RTLD_NOLOAD);
    if (lib == nullptr) lib = ::dlopen("libsqlite3.so.0", RTLD_NOW);
    if (lib == nullptr) throw std::runtime_error("full-disk vfs: cannot load libsqlite3.so.0");
    find_ = reinterpret_cast<decltype(find_)>(::dlsym(lib, "sqlite3_vfs_find"));
    register_ = reinterpret_cast<decltype(register_)>(::dlsym(lib, "sqlite3_vfs_register"));
    unregister_ = reinterpret_cast<decltype(unregister_)>(::dlsym(lib, "sqlite3_vfs_unregister"));
    if (find_ == nullptr || register_ == nullptr || unregister_ == nullptr) throw std::runtime_error("full-disk vfs: dlsym");
    real() = find_(nullptr);
    budget() = budget_bytes;
    vfs_ = *real();
    vfs_.zName = "dpgcert-full-disk";
    vfs_.szOsFile = static_cast<int>(sizeof(File)) + real()->szOsFile;
    vfs_.xOpen = &open;
    if (register_(&vfs_, 1) != SQLITE_OK) throw std::runtime_error("full-disk vfs: register");
  }
  ~FullDiskVfs() {
    unregister_(&vfs_);
    register_(real(), 1);
  }
  FullDiskVfs(const FullDiskVfs&) = delete;
  FullDiskVfs& operator=(const FullDiskVfs&) = delete;

  /// Whether a write has been refused.
  [[nodiscard]] static bool hit() noexcept { return refused().load() > 0; }

 private:
  struct File {
    sqlite3_file base;
    sqlite3_file* inner;  // follows this struct in the same allocation
  };

  static sqlite3_vfs*& real() {
    static sqlite3_vfs* v = nullptr;
    return v;
  }
  static std::atomic<long long>& budget() {
    static std::atomic<long long> b{0};
    return b;
  }
  static std::atomic<long long>& refused() {
    static std::atomic<long long> n{0};
    return n;
  }
  static sqlite3_file* inner(sqlite3_file* f) { return reinterpret_cast<File*>(f)->inner; }

  static int write(sqlite3_file* f, const void* p, int n, sqlite3_int64 off) {
    if (budget().fetch_sub(n) < n) {
      ++refused();
      return SQLITE_FULL;
    }
    return inner(f)->pMethods->xWrite(inner(f), p, n, off);
  }
  static int close(sqlite3_file* f) {
    const int rc = inner(f)->pMethods->xClose(inner(f));
    return rc;
  }
  static int read(sqlite3_file* f, void* p, int n, sqlite3_int64 off) { return inner(f)->pMethods->xRead(inner(f), p, n, off); }
  static int truncate(sqlite3_file* f, sqlite3_int64 size) { return inner(f)->pMethods->xTruncate(inner(f), size); }
  static int sync(sqlite3_file* f, int flags) { return inner(f)->pMethods->xSync(inner(f), flags); }
  static int file_size(sqlite3_file* f, sqlite3_int64* size) { return inner(f)->pMethods->xFileSize(inner(f), size); }
  static int lock(sqlite3_file* f, int l) { return inner(f)->pMethods->xLock(inner(f), l); }
  static int unlock(sqlite3_file* f, int l) { return inner(f)->pMethods->xUnlock(inner(f), l); }
  static int check_reserved(sqlite3_file* f, int* out) { return inner(f)->pMethods->xCheckReservedLock(inner(f), out); }
  static int file_control(sqlite3_file* f, int op, void* arg) { return inner(f)->pMethods->xFileControl(inner(f), op, arg); }
  static int sector_size(sqlite3_file* f) { return inner(f)->pMethods->xSectorSize(inner(f)); }
  static int device_characteristics(sqlite3_file* f) { return inner(f)->pMethods->xDeviceCharacteristics(inner(f)); }
  static int shm_map(sqlite3_file* f, int i, int size, int extend, void volatile** p) {
    return inner(f)->pMethods->xShmMap(inner(f), i, size, extend, p);
  }
  static int shm_lock(sqlite3_file* f, int offset, int n, int flags) { return inner(f)->pMethods->xShmLock(inner(f), offset, n, flags); }
  static void shm_barrier(sqlite3_file* f) { inner(f)->pMethods->xShmBarrier(inner(f)); }
  static int shm_unmap(sqlite3_file* f, int del) { return inner(f)->pMethods->xShmUnmap(inner(f), del); }
  static int fetch(sqlite3_file* f, sqlite3_int64 off, int n, void** p) { return inner(f)->pMethods->xFetch(inner(f), off, n, p); }
  static int unfetch(sqlite3_file* f, sqlite3_int64 off, void* p) { return inner(f)->pMethods->xUnfetch(inner(f), off, p); }

  static const sqlite3_io_methods* methods() {
    static const sqlite3_io_methods m = {3,          &close,       &read,         &write,     &truncate,   &sync,
                                         &file_size, &lock,        &unlock,       &check_reserved, &file_control,
                                         &sector_size, &device_characteristics, &shm_map, &shm_lock, &shm_barrier,
                                         &shm_unmap, &fetch,       &unfetch};
    return &m;
  }

  static int open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
    File* file = reinterpret_cast<File*>(f);
    file->inner = reinterpret_cast<sqlite3_file*>(file + 1);
    const int rc = real()->xOpen(real(), name, file->inner, flags, out_flags);
    // SQLite calls xClose only when pMethods is set: set it only when the inner file is open.
    file->base.pMethods = (rc == SQLITE_OK && file->inner->pMethods != nullptr) ? methods() : nullptr;
    return rc;
  }

  sqlite3_vfs* (*find_)(const char*) = nullptr;
  int (*register_)(sqlite3_vfs*, int) = nullptr;
  int (*unregister_)(sqlite3_vfs*) = nullptr;
  sqlite3_vfs vfs_{};
};

}  // namespace dpgcert::testing
