#include "bluetrace/protocol/text_lines.hpp"

#include <limits>
#include <string>

#include "text_detail.hpp"

namespace bluetrace::protocol {
namespace {

std::string LinePrefix(std::string_view file_name, std::uint64_t number) {
  return std::string(file_name) + " line " + std::to_string(number);
}

util::Status OverlongError(std::string_view file_name, std::uint64_t number,
                           std::size_t max_line_bytes) {
  return util::InvalidArgument(LinePrefix(file_name, number) + ": line is longer than " +
                               std::to_string(max_line_bytes) + " bytes");
}

bool IsBlank(std::string_view text) {
  return text.find_first_not_of(" \t") == std::string_view::npos;
}

// Checks one line and hands it to `fn` unless it is blank. `raw` excludes the '\n';
// `ended` says whether one followed, since only a CR right before it is a line end.
util::Status DeliverLine(std::string_view raw, bool ended, std::uint64_t number,
                         std::string_view file_name, std::size_t max_line_bytes,
                         const std::function<util::Status(const TextLine&)>& fn) {
  std::string_view text = raw;
  if (ended && !text.empty() && text.back() == '\r') text.remove_suffix(1);
  // Length first, so LineSplitter reports the same error whether it sees the whole line at
  // once or stops buffering it part way.
  if (text.size() > max_line_bytes) return OverlongError(file_name, number, max_line_bytes);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') {
      return util::InvalidArgument(LinePrefix(file_name, number) +
                                   ": stray carriage return (CR) at byte " + std::to_string(i + 1) +
                                   "; lines end in LF or CRLF");
    }
    if (text[i] == '\0') {
      return util::InvalidArgument(LinePrefix(file_name, number) + ": NUL byte at byte " +
                                   std::to_string(i + 1));
    }
  }
  if (IsBlank(text)) return util::Status::Ok();
  util::Status st = fn(TextLine{number, text});
  // The prefix is built only for an error: this runs once per line of files with millions.
  if (st.ok()) return st;
  return st.WithContext(LinePrefix(file_name, number));
}

}  // namespace

util::Status ForEachLine(std::string_view content, std::string_view file_name,
                         const std::function<util::Status(const TextLine&)>& fn) {
  std::uint64_t number = 0;
  std::size_t pos = 0;
  while (pos < content.size()) {
    const std::size_t nl = content.find('\n', pos);
    const bool ended = nl != std::string_view::npos;
    const std::size_t end = ended ? nl : content.size();
    BLUETRACE_RETURN_IF_ERROR(DeliverLine(content.substr(pos, end - pos), ended, ++number,
                                          file_name, std::numeric_limits<std::size_t>::max(), fn));
    pos = end + 1;
  }
  return util::Status::Ok();
}

util::Status LineSplitter::Feed(std::string_view chunk,
                                const std::function<util::Status(const TextLine&)>& fn) {
  if (!error_.ok()) return error_;
  while (!chunk.empty()) {
    const std::size_t nl = chunk.find('\n');
    if (nl == std::string_view::npos) {
      // Keep at most max_line_bytes plus one byte that may turn out to be the CR of a CRLF.
      const std::size_t size = partial_.size() + chunk.size();
      if (size > max_line_bytes_ + 1 || (size == max_line_bytes_ + 1 && chunk.back() != '\r')) {
        error_ = OverlongError(file_name_, line_number_ + 1, max_line_bytes_);
        return error_;
      }
      partial_.append(chunk);
      return util::Status::Ok();
    }
    const std::string_view line = chunk.substr(0, nl + 1);
    chunk.remove_prefix(nl + 1);
    if (partial_.empty()) {
      BLUETRACE_RETURN_IF_ERROR(Deliver(line, fn));  // the common case: no copy
    } else {
      partial_.append(line);
      BLUETRACE_RETURN_IF_ERROR(Deliver(partial_, fn));
    }
  }
  return util::Status::Ok();
}

util::Status LineSplitter::Finish(const std::function<util::Status(const TextLine&)>& fn) {
  if (!error_.ok()) return error_;
  if (partial_.empty()) return util::Status::Ok();
  return Deliver(partial_, fn);
}

util::Status LineSplitter::Deliver(std::string_view raw,
                                   const std::function<util::Status(const TextLine&)>& fn) {
  const bool ended = !raw.empty() && raw.back() == '\n';
  if (ended) raw.remove_suffix(1);
  error_ = DeliverLine(raw, ended, ++line_number_, file_name_, max_line_bytes_, fn);
  if (!error_.ok()) return error_;
  if (ended) complete_bytes_ += raw.size() + 1;
  partial_.clear();
  return util::Status::Ok();
}

}  // namespace bluetrace::protocol
