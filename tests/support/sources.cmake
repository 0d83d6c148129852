target_sources(bluetrace_test_support PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/temp_dir.cpp
)
