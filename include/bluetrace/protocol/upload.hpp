// Contact-log upload in chunks (docs/PROTOCOL.md, "Uploading a contact log").
//
// A contact log may be larger than one frame, so it travels as UploadBegin{total_bytes},
// any number of UploadChunk{data} whose concatenation is the log, and UploadEnd.
// SplitUpload builds that sequence on the client; UploadAssembler checks and reassembles
// it on the server, refusing more than it was told to expect and more than its limit, and
// storing only bytes actually received (never trusting the announced total to allocate).
// The assembler is single-threaded, owned by one session; SplitUpload is a pure function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bluetrace/protocol/messages.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::protocol {

// The most data one UploadChunk can carry within frames of `max_frame_bytes`: N minus the
// type byte and the blob's 4-byte length. 0 when the limit is too small for any data.
std::size_t MaxUploadChunkBytes(std::uint32_t max_frame_bytes);

// UploadBegin, then chunks of at most `chunk_bytes` (> 0) data each, then UploadEnd. An empty
// log is UploadBegin{0} and UploadEnd with no chunk.
std::vector<Message> SplitUpload(std::string_view content, std::size_t chunk_bytes);

class UploadAssembler {
 public:
  explicit UploadAssembler(std::uint64_t max_upload_bytes) : max_upload_bytes_(max_upload_bytes) {}

  // Starts an upload. kFailedPrecondition when one is in progress; kResourceExhausted when
  // total_bytes exceeds the limit (the upload is not started).
  util::Status Begin(const UploadBegin& begin);
  // Appends a chunk. kFailedPrecondition outside an upload; kInvalidArgument for an empty
  // chunk or one that goes past the announced total (the upload is abandoned).
  util::Status Add(const UploadChunk& chunk);
  // Ends the upload and returns the log. kFailedPrecondition outside an upload;
  // kInvalidArgument when fewer bytes arrived than announced (the upload is abandoned).
  util::Result<std::string> Finish();
  // Abandons any upload in progress (e.g. on Logout or a closed connection).
  void Reset();

  bool active() const { return active_; }

 private:
  std::uint64_t max_upload_bytes_;
  bool active_ = false;
  std::uint64_t expected_ = 0;
  std::string data_;
};

}  // namespace bluetrace::protocol
