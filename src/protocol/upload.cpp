#include "bluetrace/protocol/upload.hpp"

#include <algorithm>
#include <utility>

namespace bluetrace::protocol {

std::size_t MaxUploadChunkBytes(std::uint32_t max_frame_bytes) {
  constexpr std::size_t kOverhead = 1 + 4;  // type byte, blob length
  return max_frame_bytes > kOverhead ? max_frame_bytes - kOverhead : 0;
}

std::vector<Message> SplitUpload(std::string_view content, std::size_t chunk_bytes) {
  std::vector<Message> out;
  out.emplace_back(UploadBegin{content.size()});
  for (std::size_t pos = 0; pos < content.size(); pos += chunk_bytes) {
    out.emplace_back(UploadChunk{std::string(content.substr(pos, chunk_bytes))});
  }
  out.emplace_back(UploadEnd{});
  return out;
}

util::Status UploadAssembler::Begin(const UploadBegin& begin) {
  if (active_) return util::FailedPrecondition("UploadBegin while an upload is in progress");
  if (begin.total_bytes > max_upload_bytes_) {
    return util::ResourceExhausted("upload of " + std::to_string(begin.total_bytes) +
                                   " bytes exceeds the limit of " +
                                   std::to_string(max_upload_bytes_));
  }
  active_ = true;
  expected_ = begin.total_bytes;
  data_.clear();
  return util::Status::Ok();
}

util::Status UploadAssembler::Add(const UploadChunk& chunk) {
  if (!active_) return util::FailedPrecondition("UploadChunk without UploadBegin");
  if (chunk.data.empty()) {
    Reset();
    return util::InvalidArgument("empty UploadChunk");
  }
  if (chunk.data.size() > expected_ - data_.size()) {
    const std::uint64_t announced = expected_;
    Reset();
    return util::InvalidArgument("chunks exceed the " + std::to_string(announced) +
                                 " bytes announced by UploadBegin");
  }
  data_.append(chunk.data);
  return util::Status::Ok();
}

util::Result<std::string> UploadAssembler::Finish() {
  if (!active_) return util::FailedPrecondition("UploadEnd without UploadBegin");
  if (data_.size() != expected_) {
    const std::string message = "UploadEnd after " + std::to_string(data_.size()) + " of " +
                                std::to_string(expected_) + " announced bytes";
    Reset();
    return util::InvalidArgument(message);
  }
  std::string out = std::move(data_);
  Reset();
  return out;
}

void UploadAssembler::Reset() {
  active_ = false;
  expected_ = 0;
  data_ = std::string();
}

}  // namespace bluetrace::protocol
