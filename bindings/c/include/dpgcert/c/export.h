/* dpgcert C API: DPGCERT_C_API, the mark of an exported function. Part of <dpgcert/dpgcert.h>;
 * include that header. */
#ifndef DPGCERT_C_EXPORT_H
#define DPGCERT_C_EXPORT_H

#if defined(_WIN32)
#  if defined(DPGCERT_C_BUILDING)
#    define DPGCERT_C_API __declspec(dllexport)
#  else
#    define DPGCERT_C_API __declspec(dllimport)
#  endif
#else
#  define DPGCERT_C_API __attribute__((visibility("default")))
#endif

#endif /* DPGCERT_C_EXPORT_H */
