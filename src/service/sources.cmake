target_sources(bluetrace_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/auth_service.cpp
  ${CMAKE_CURRENT_LIST_DIR}/console.cpp
  ${CMAKE_CURRENT_LIST_DIR}/console_service.cpp
  ${CMAKE_CURRENT_LIST_DIR}/contact_check.cpp
  ${CMAKE_CURRENT_LIST_DIR}/protocol_session.cpp
  ${CMAKE_CURRENT_LIST_DIR}/rate_limiter.cpp
  ${CMAKE_CURRENT_LIST_DIR}/reporting_service.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tracing_service.cpp
  ${CMAKE_CURRENT_LIST_DIR}/server_config.cpp
  ${CMAKE_CURRENT_LIST_DIR}/server_config_keys.cpp
  ${CMAKE_CURRENT_LIST_DIR}/storage_config.cpp
  ${CMAKE_CURRENT_LIST_DIR}/worker_pool.cpp
  ${CMAKE_CURRENT_LIST_DIR}/metrics.cpp
  ${CMAKE_CURRENT_LIST_DIR}/password_rules.cpp
  ${CMAKE_CURRENT_LIST_DIR}/client_config.cpp
  ${CMAKE_CURRENT_LIST_DIR}/client_rules.cpp
)
