// Private: the one bounded file reader and the one exclusive/atomic file writer of dpgcert.
// Compiled into the library, and into the tool and the tests as well (the library exports none of
// it), so that every layer and the CLI read and write files the same way.
#pragma once

#include <dpgcert/error.hpp>
#include <dpgcert/secret.hpp>

#include <cstddef>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <span>
#include <string_view>
#include <vector>

#include <sys/types.h>

namespace dpgcert::detail {

/// How read_file() and read_secret_file() read.
struct ReadFileOptions {
  std::size_t limit = 0;                 ///< The largest file accepted, in bytes.
  ErrorCode if_missing = ErrorCode::io;  ///< The code for a file that does not exist.
  std::string_view what = "file";        ///< Names the file in messages ("key file '/x': ...").
  /// A private file (a key file): it must be owned by this process's user or by root and give
  /// group and others no access, else Error(invalid_argument) saying how to fix it (ssh's rule
  /// for private keys).
  bool private_file = false;
};

/// Reads a whole regular file (symbolic links are followed; opened without blocking, so a FIFO is
/// refused, not waited on). Throws Error(limit_exceeded) when it holds more than `options.limit`
/// bytes (before reading any), Error(options.if_missing) when it does not exist, Error(io) for
/// anything else (a FIFO, a device, a folder, no permission, a read error).
[[nodiscard]] std::vector<std::byte> read_file(const std::filesystem::path& path, const ReadFileOptions& options);

/// As read_file(), into a zeroizing buffer: for files that hold passwords or keys. Nothing of the
/// content reaches a message.
[[nodiscard]] SecretBytes read_secret_file(const std::filesystem::path& path, const ReadFileOptions& options);

/// How create_file(), try_create_file() and replace_file() write.
struct WriteFileOptions {
  mode_t mode = 0600;                    ///< The file's permissions, whatever the umask.
  ErrorCode if_missing = ErrorCode::io;  ///< The code when the folder does not exist.
  std::string_view what = "file";        ///< Names the file in messages.
};

/// Creates `path` exclusively and writes `data` to it: never follows a symbolic link and never
/// replaces anything that is there (even a dangling link). The file gets `options.mode` whatever
/// the umask; file and folder are flushed to the disk. A file it created is removed again when a
/// later step fails. Throws Error(conflict) when something exists at `path`,
/// Error(options.if_missing) when the folder does not exist, Error(io) otherwise.
void create_file(const std::filesystem::path& path, std::span<const std::byte> data, const WriteFileOptions& options);

/// As create_file(), but returns false (and touches nothing) when something exists at `path`.
[[nodiscard]] bool try_create_file(const std::filesystem::path& path, std::span<const std::byte> data,
                                   const WriteFileOptions& options);

/// Replaces `path` atomically with a file holding `data`: writes a temporary file beside it
/// (created exclusively, `options.mode` whatever the umask, flushed), renames it over `path` and
/// flushes the folder. Readers see the old content or the new one, never a part; on failure the
/// old content is left as it was and the temporary file is removed. A symbolic link at `path` is
/// replaced, not followed. Throws Error(options.if_missing) when the folder does not exist,
/// Error(io) otherwise.
void replace_file(const std::filesystem::path& path, std::span<const std::byte> data, const WriteFileOptions& options);

/// As replace_file(), with the content written by `write` into a buffered stream over the temporary
/// file (for large content made piecewise). An exception from `write` removes the temporary file
/// and propagates; a stream left failed by `write` is Error(io).
void replace_file(const std::filesystem::path& path, const std::function<void(std::ostream&)>& write,
                  const WriteFileOptions& options);

}  // namespace dpgcert::detail
