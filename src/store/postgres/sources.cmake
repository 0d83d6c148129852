target_sources(bluetrace_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/pg_connection.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pg_pool.cpp
  ${CMAKE_CURRENT_LIST_DIR}/migrations.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pg_user_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pg_lockout_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pg_tempid_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pg_report_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pg_upload_code_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pg_device_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pg_audit_trail.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pg_staff_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pg_contact_status_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pg_backend.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pg_transfer.cpp
)
