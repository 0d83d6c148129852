target_sources(bluetrace_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/file_backend.cpp
  ${CMAKE_CURRENT_LIST_DIR}/leftover_temp_files.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tempid_index.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tempid_file.cpp
  ${CMAKE_CURRENT_LIST_DIR}/file_tempid_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/file_lockout_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/file_device_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/file_user_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/file_report_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/file_upload_code_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/withdrawals.cpp
  ${CMAKE_CURRENT_LIST_DIR}/file_staff_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/file_contact_status_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/audit_log.cpp
  ${CMAKE_CURRENT_LIST_DIR}/file_audit_trail.cpp
)
