/* Compiled alone (tests/c/CMakeLists.txt): the public C header must stand on its own as C99,
 * C11 and C++ with every warning an error. Uses each option initialiser so that a field missing
 * from an _INIT macro is a -Wmissing-field-initializers error. */
#include <dpgcert/dpgcert.h>

int dpgcert_headertest(void);

int dpgcert_headertest(void) {
  dpgcert_validate_options validate = DPGCERT_VALIDATE_OPTIONS_INIT;
  dpgcert_store_options store = DPGCERT_STORE_OPTIONS_INIT;
  dpgcert_import_options import = DPGCERT_IMPORT_OPTIONS_INIT;
  dpgcert_query query = DPGCERT_QUERY_INIT;
  dpgcert_query expiring = DPGCERT_QUERY_EXPIRING_BEFORE(0);
  dpgcert_check_options check = DPGCERT_CHECK_OPTIONS_INIT;
  return (int)(validate.version + store.version + import.version + query.version + expiring.version + check.version);
}
