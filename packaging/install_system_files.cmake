# Runs at install time (cmake --install, cpack; file(INSTALL) adds $DESTDIR itself): the systemd units with the final prefix's paths,
# the sysusers.d entry and the logrotate file. The logrotate file goes to /etc for the prefix /usr
# and into a package (cpack installs with DESTDIR), otherwise to <prefix>/etc. Set by the
# install(CODE) before it: DPGCERT_PACKAGING_DIR.
set(prefix "${CMAKE_INSTALL_PREFIX}")
set(DPGCERT_BINDIR "${prefix}/bin")
set(DPGCERT_DOCDIR "${prefix}/share/doc/dpgcert")
if(prefix STREQUAL "/usr" OR NOT "$ENV{DESTDIR}" STREQUAL "")
  set(etc "/etc")
else()
  set(etc "${prefix}/etc")
endif()
set(staging "${CMAKE_CURRENT_BINARY_DIR}/dpgcert-system-files")
file(MAKE_DIRECTORY "${staging}")
foreach(unit dpgcert-check.service dpgcert-metrics.service)
  configure_file("${DPGCERT_PACKAGING_DIR}/systemd/${unit}.in" "${staging}/${unit}" @ONLY)
endforeach()
configure_file("${DPGCERT_PACKAGING_DIR}/systemd/dpgcert.sysusers" "${staging}/dpgcert.conf" COPYONLY)
configure_file("${DPGCERT_PACKAGING_DIR}/logrotate" "${staging}/dpgcert" COPYONLY)
file(INSTALL "${staging}/dpgcert-check.service" "${staging}/dpgcert-metrics.service"
             "${DPGCERT_PACKAGING_DIR}/systemd/dpgcert-check.timer" "${DPGCERT_PACKAGING_DIR}/systemd/dpgcert-metrics.timer"
     DESTINATION "${prefix}/lib/systemd/system" FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
file(INSTALL "${staging}/dpgcert.conf" DESTINATION "${prefix}/lib/sysusers.d"
     FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
file(INSTALL "${staging}/dpgcert" DESTINATION "${etc}/logrotate.d"
     FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
