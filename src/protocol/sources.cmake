target_sources(bluetrace_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/argon2_encoding.cpp
  ${CMAKE_CURRENT_LIST_DIR}/beacon.cpp
  ${CMAKE_CURRENT_LIST_DIR}/credentials_line.cpp
  ${CMAKE_CURRENT_LIST_DIR}/frame_decoder.cpp
  ${CMAKE_CURRENT_LIST_DIR}/messages.cpp
  ${CMAKE_CURRENT_LIST_DIR}/upload.cpp
  ${CMAKE_CURRENT_LIST_DIR}/wire.cpp
  ${CMAKE_CURRENT_LIST_DIR}/phone.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tempid.cpp
  ${CMAKE_CURRENT_LIST_DIR}/text_lines.cpp
  ${CMAKE_CURRENT_LIST_DIR}/text_records.cpp
  ${CMAKE_CURRENT_LIST_DIR}/timestamp.cpp
)
