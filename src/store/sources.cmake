target_sources(bluetrace_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/file_system.cpp
)
