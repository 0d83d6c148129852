target_sources(bluetrace_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/rate_limiter.cpp
  ${CMAKE_CURRENT_LIST_DIR}/server_config.cpp
  ${CMAKE_CURRENT_LIST_DIR}/worker_pool.cpp
)
