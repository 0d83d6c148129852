# The fuzz targets; each needs fuzz/<name>_fuzz.cpp and fuzz/corpus/<name>/.
set(BLUETRACE_FUZZ_TARGETS
  beacon
  contact_log
  credentials_line
  tempid_line
  timestamp
  frame_decoder
  message
  session
  lockouts
  audit_log
  known_servers
  server_config
  client_config
  contact_log_received
  argon2_encoding
)
