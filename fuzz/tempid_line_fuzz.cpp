// Fuzzes ParseTempIdLine over every line of the input (split by ForEachLine), and the line
// splitting itself: a LineSplitter fed the same bytes in chunks (sizes taken from the input)
// must deliver the same lines and end with the same status as ForEachLine. Every parsed
// record must survive Format -> Parse unchanged.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bluetrace/protocol/phone.hpp"
#include "bluetrace/protocol/text_lines.hpp"
#include "bluetrace/protocol/text_records.hpp"

namespace {

void Check(bool invariant) {
  if (!invariant) __builtin_trap();
}

using bluetrace::protocol::TextLine;
using bluetrace::util::Status;
using Lines = std::vector<std::pair<std::uint64_t, std::string>>;

// Feeds `content` to a LineSplitter in chunks of 1 to 16 bytes, the sizes cycling through
// the input's own bytes.
Status SplitInChunks(std::string_view content, Lines& lines) {
  // The limit exceeds any input the fuzzer makes, so it never differs from ForEachLine.
  bluetrace::protocol::LineSplitter splitter("tempIDs.txt", 1 << 24);
  auto fn = [&](const TextLine& line) {
    lines.emplace_back(line.number, std::string(line.text));
    return Status::Ok();
  };
  std::size_t pos = 0;
  std::size_t i = 0;
  while (pos < content.size()) {
    const std::size_t n = 1 + static_cast<unsigned char>(content[i++ % content.size()]) % 16;
    const Status st = splitter.Feed(content.substr(pos, n), fn);
    if (!st.ok()) return st;
    pos += n < content.size() - pos ? n : content.size() - pos;
  }
  return splitter.Finish(fn);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bluetrace::protocol;
  const std::string_view content(reinterpret_cast<const char*>(data), size);

  Lines whole_lines;
  const Status whole = ForEachLine(content, "tempIDs.txt", [&](const TextLine& line) {
    whole_lines.emplace_back(line.number, std::string(line.text));
    auto record = ParseTempIdLine(line.text);
    if (!record.ok()) {
      Check(record.status().code() == bluetrace::util::StatusCode::kInvalidArgument);
      return Status::Ok();  // keep going: every line gets parsed
    }
    Check(IsCanonicalPhone(record->user));
    Check(record->start <= record->expiry);
    const std::string formatted = FormatTempIdLine(*record);
    auto back = ParseTempIdLine(formatted);
    Check(back.ok());
    Check(*back == *record);
    Check(FormatTempIdLine(*back) == formatted);
    return Status::Ok();
  });

  Lines chunked_lines;
  const Status chunked = SplitInChunks(content, chunked_lines);
  Check(chunked == whole);
  Check(chunked_lines == whole_lines);
  return 0;
}
