/* Compiled alone (tests/c/CMakeLists.txt): the public C header must stand on its own as C99,
 * C11 and C++ with every warning an error. Uses each option initialiser so that a field missing
 * from an _INIT macro is a -Wmissing-field-initializers error.
 *
 * With DPGCERT_HEADERTEST_ALONE, dpgcert.h is not included: the test then forces one of the
 * headers it includes (<dpgcert/c/...>) in first, twice (-include), so that each of them stands on
 * its own and has an include guard; the initialisers of that header are used. */
#ifndef DPGCERT_HEADERTEST_ALONE
#include <dpgcert/dpgcert.h>
#endif

int dpgcert_headertest(void);

int dpgcert_headertest(void) {
  int sum = 0;
#ifdef DPGCERT_C_VALIDATION_H
  dpgcert_validate_options validate = DPGCERT_VALIDATE_OPTIONS_INIT;
  sum += (int)validate.version;
#endif
#ifdef DPGCERT_DPGCERT_H
  dpgcert_store_options store = DPGCERT_STORE_OPTIONS_INIT;
  dpgcert_import_options import = DPGCERT_IMPORT_OPTIONS_INIT;
  dpgcert_query query = DPGCERT_QUERY_INIT;
  dpgcert_query expiring = DPGCERT_QUERY_EXPIRING_BEFORE(0);
  dpgcert_check_options check = DPGCERT_CHECK_OPTIONS_INIT;
  sum += (int)(store.version + import.version + query.version + expiring.version + check.version);
#endif
  return sum;
}
