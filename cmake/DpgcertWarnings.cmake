# Warning and sanitizer flags for dpgcert's own targets (never forced on consumers).
function(dpgcert_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow)
  if(DPGCERT_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(DPGCERT_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
                           -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()
