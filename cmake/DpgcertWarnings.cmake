# Warning and sanitizer flags for dpgcert's own targets (never forced on consumers).
function(dpgcert_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow)
  if(DPGCERT_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  # UBSan without its null and alignment checks: together they instrument every pointer use and
  # cost a quarter of the sanitizer build's time; a null dereference is still caught (ASan reports
  # the SEGV with its stack) and x86 does not fault on misalignment.
  if(DPGCERT_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-sanitize=null,alignment
                           -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()
