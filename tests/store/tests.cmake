bluetrace_test(store file_system)
bluetrace_test(store leftover_temp_files)
bluetrace_test(store instrumented_file_system)
bluetrace_test(store tempid_index)
bluetrace_test(store tempid_store)
bluetrace_test(store tempid_store_recovery)
bluetrace_test(store tempid_store_commit)
bluetrace_test(store tempid_store_compaction)
bluetrace_test(store fault_injection_fs)
bluetrace_test(store password_hash)
bluetrace_test(store device_store)
bluetrace_test(store lockout_store)
bluetrace_test(store credentials_store)
bluetrace_test(store contact_log_store)
bluetrace_test(store known_servers)
bluetrace_test(store audit_log)
bluetrace_test(store file_upload_code_store)
# The storage contract suites, instantiated for every backend.
bluetrace_test(store store_contract
  ${CMAKE_CURRENT_SOURCE_DIR}/store/contract/user_store_contract.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/store/contract/lockout_store_contract.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/store/contract/tempid_store_contract.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/store/contract/other_stores_contract.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/store/contract/upload_code_store_contract.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/store/contract/staff_store_contract.cpp)
bluetrace_test(store postgres_server)
bluetrace_test(store pg_connection)
bluetrace_test(store pg_lockout_store)
bluetrace_test(store pg_user_store)
bluetrace_test(store pg_audit_trail)
bluetrace_test(store pg_tempid_store)
bluetrace_test(store pg_device_store)
bluetrace_test(store pg_tls)
bluetrace_test(store pg_transfer)
