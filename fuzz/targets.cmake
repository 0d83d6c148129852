# The fuzz targets; each needs fuzz/<name>_fuzz.cpp and fuzz/corpus/<name>/.
set(BLUETRACE_FUZZ_TARGETS
  frame_decoder
  message
)
