target_sources(bluetrace_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/file_system.cpp
  ${CMAKE_CURRENT_LIST_DIR}/instrumented_file_system.cpp
  ${CMAKE_CURRENT_LIST_DIR}/password_hash.cpp
  ${CMAKE_CURRENT_LIST_DIR}/lockout_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/contact_log_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/known_servers.cpp
  ${CMAKE_CURRENT_LIST_DIR}/device_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/device_tokens.cpp
  ${CMAKE_CURRENT_LIST_DIR}/report_name.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tempid_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/upload_code_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/staff_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/contact_status_store.cpp
)
# The file backend (the default): one folder per backend.
include(${CMAKE_CURRENT_LIST_DIR}/files/sources.cmake)
# The PostgreSQL backend (several server instances on one database): under construction,
# not chosen by ReportingService yet.
include(${CMAKE_CURRENT_LIST_DIR}/postgres/sources.cmake)
