# "cpack -G DEB" in the build directory makes hlm_<version>-<release>_<arch>.deb
# from what "cmake --install" installs, under /usr. Included last by the
# top-level CMakeLists.txt.

set(HLM_PACKAGE_MAINTAINER "hlm maintainers <hlm@localhost>" CACHE STRING
    "The Maintainer field of the .deb")
set(HLM_PACKAGE_RELEASE 1 CACHE STRING "The Debian revision of the .deb")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME hlm)
set(CPACK_PACKAGE_VENDOR hlm)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${HLM_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_DESCRIPTION
  "hlm lets a Swift cluster whose storage nodes sit on a tape-backed file
system migrate objects and containers to tape, recall them, and report
where each replica is. It keeps the queue and handler protocols of IBM's
SwiftHLM middleware.
 .
hlmctl queues requests and asks for status; hlm-dispatch carries out the
queue (systemd timer or service included); hlm-handler runs on each storage
node and drives the tape backend through a connector.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${HLM_PACKAGE_RELEASE})
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends: computed from the binaries by dpkg-shlibdeps (dpkg-dev).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# swift: the units run as its user "swift", and the tools read /etc/swift.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "swift")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "openssh-server, openssh-client")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/packaging/debian/postinst
  ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
  ${PROJECT_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
