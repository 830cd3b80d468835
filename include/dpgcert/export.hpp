// Symbol visibility for dpgcert's shared library.
#pragma once

#if defined(_WIN32)
#  if defined(DPGCERT_BUILDING_LIBRARY)
#    define DPGCERT_API __declspec(dllexport)
#  else
#    define DPGCERT_API __declspec(dllimport)
#  endif
#else
#  define DPGCERT_API __attribute__((visibility("default")))
#endif
