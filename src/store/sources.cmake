target_sources(bluetrace_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/file_system.cpp
  ${CMAKE_CURRENT_LIST_DIR}/leftover_temp_files.cpp
  ${CMAKE_CURRENT_LIST_DIR}/instrumented_file_system.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tempid_index.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tempid_file.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tempid_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/password_hash.cpp
  ${CMAKE_CURRENT_LIST_DIR}/lockout_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/device_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/credentials_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/report_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/contact_log_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/known_servers.cpp
  ${CMAKE_CURRENT_LIST_DIR}/device_tokens.cpp
  ${CMAKE_CURRENT_LIST_DIR}/audit_log.cpp
)
