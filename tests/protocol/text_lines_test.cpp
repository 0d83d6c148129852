#include "bluetrace/protocol/text_lines.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "support/temp_dir.hpp"

namespace bluetrace::protocol {
namespace {

using Lines = std::vector<std::pair<std::uint64_t, std::string>>;

// What a parse produced: the lines delivered and the final status.
struct Outcome {
  Lines lines;
  util::Status status;
  friend bool operator==(const Outcome&, const Outcome&) = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  for (const auto& [n, text] : o.lines) os << n << ":[" << text << "] ";
  return os << o.status.ToString();
}

Outcome Whole(std::string_view content) {
  Outcome out;
  out.status = ForEachLine(content, "f.txt", [&](const TextLine& line) {
    out.lines.emplace_back(line.number, std::string(line.text));
    return util::Status::Ok();
  });
  return out;
}

// Feeds `content` cut at `cuts` (ascending offsets) to a LineSplitter.
Outcome Chunked(std::string_view content, const std::vector<std::size_t>& cuts,
                std::size_t max_line = 4096) {
  Outcome out;
  LineSplitter splitter("f.txt", max_line);
  auto fn = [&](const TextLine& line) {
    out.lines.emplace_back(line.number, std::string(line.text));
    return util::Status::Ok();
  };
  std::size_t pos = 0;
  for (std::size_t cut : cuts) {
    out.status = splitter.Feed(content.substr(pos, cut - pos), fn);
    pos = cut;
    if (!out.status.ok()) return out;
  }
  out.status = splitter.Feed(content.substr(pos), fn);
  if (out.status.ok()) out.status = splitter.Finish(fn);
  return out;
}

Outcome ByteAtATime(std::string_view content) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < content.size(); ++i) cuts.push_back(i);
  return Chunked(content, cuts);
}

TEST(ForEachLineTest, SplitsLfAndCrlfAlike) {
  const Lines expected = {{1, "a b"}, {2, "c"}};
  EXPECT_EQ(Whole("a b\nc\n"), (Outcome{expected, {}}));
  EXPECT_EQ(Whole("a b\r\nc\r\n"), (Outcome{expected, {}}));
  EXPECT_EQ(Whole("a b\r\nc\n"), (Outcome{expected, {}}));  // mixed line ends
  EXPECT_EQ(Whole("a b\nc"), (Outcome{expected, {}}));      // no final newline
  EXPECT_EQ(Whole("a b\r\nc"), (Outcome{expected, {}}));
}

TEST(ForEachLineTest, SkipsBlankLinesButCountsThem) {
  EXPECT_EQ(Whole("\n\na\n \t \r\n\r\nb\n\n"), (Outcome{{{3, "a"}, {6, "b"}}, {}}));
  EXPECT_EQ(Whole(""), (Outcome{{}, {}}));
  EXPECT_EQ(Whole("\n"), (Outcome{{}, {}}));
  EXPECT_EQ(Whole("  \t"), (Outcome{{}, {}}));
  EXPECT_EQ(Whole("\r\n\r\n"), (Outcome{{}, {}}));
}

TEST(ForEachLineTest, KeepsInnerAndOuterSpacesForTheRecordParser) {
  // Leading and trailing whitespace are the record parser's business, which rejects them.
  EXPECT_EQ(Whole(" a \n\tb\t\r\n"), (Outcome{{{1, " a "}, {2, "\tb\t"}}, {}}));
}

TEST(ForEachLineTest, RejectsAStrayCarriageReturn) {
  const Outcome o = Whole("ok\nab\rcd\nmore\n");
  EXPECT_EQ(o.lines, (Lines{{1, "ok"}}));
  EXPECT_EQ(o.status.code(), util::StatusCode::kInvalidArgument);
  EXPECT_EQ(o.status.message(),
            "f.txt line 2: stray carriage return (CR) at byte 3; lines end in LF or CRLF");
  EXPECT_EQ(Whole("a\r\r\n").status.message(),
            "f.txt line 1: stray carriage return (CR) at byte 2; lines end in LF or CRLF");
  // Old Mac line ends and a CR at the very end (no LF after it) are stray too.
  EXPECT_FALSE(Whole("a\rb\rc").status.ok());
  EXPECT_EQ(Whole("a\nb\r").status.message(),
            "f.txt line 2: stray carriage return (CR) at byte 2; lines end in LF or CRLF");
  EXPECT_FALSE(Whole("\r").status.ok());
}

TEST(ForEachLineTest, RejectsNulBytes) {
  const Outcome o = Whole(std::string("a\n\nb\0c\n", 7));
  EXPECT_EQ(o.lines, (Lines{{1, "a"}}));
  EXPECT_EQ(o.status.message(), "f.txt line 3: NUL byte at byte 2");
  EXPECT_FALSE(Whole(std::string("\0", 1)).status.ok());  // not blank
}

TEST(ForEachLineTest, PrefixesCallbackErrorsAndStops) {
  int calls = 0;
  const util::Status st = ForEachLine("a\n\nb\nc\n", "creds.txt", [&](const TextLine& line) {
    ++calls;
    if (line.text == "b") return util::InvalidArgument("bad b");
    return util::Status::Ok();
  });
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(st, util::InvalidArgument("creds.txt line 3: bad b"));
}

TEST(ForEachLineTest, KeepsTheCallbackErrorCode) {
  const util::Status st =
      ForEachLine("a\n", "x", [](const TextLine&) { return util::ResourceExhausted("too many"); });
  EXPECT_EQ(st.code(), util::StatusCode::kResourceExhausted);
}

TEST(LineSplitterTest, RejectsOverlongLines) {
  const std::string line(10, 'x');
  EXPECT_TRUE(Chunked(line + "\n", {}, 10).status.ok());
  EXPECT_TRUE(Chunked(line + "\r\n", {}, 10).status.ok());  // the CRLF does not count
  EXPECT_TRUE(Chunked(line, {}, 10).status.ok());
  for (const std::string& content :
       {line + "x\n", line + "x", line + "x\r\n", "ok\n" + line + "xx"}) {
    // Whether the whole line arrives at once or a byte at a time, the error is the same.
    std::vector<std::size_t> every_byte;
    for (std::size_t i = 1; i < content.size(); ++i) every_byte.push_back(i);
    for (const auto& cuts : {std::vector<std::size_t>{}, every_byte}) {
      const Outcome o = Chunked(content, cuts, 10);
      EXPECT_EQ(o.status.code(), util::StatusCode::kInvalidArgument) << content;
      EXPECT_NE(o.status.message().find("line is longer than 10 bytes"), std::string::npos)
          << o.status.message();
    }
  }
  EXPECT_EQ(Chunked("ok\n" + line + "xx", {}, 10).status.message(),
            "f.txt line 2: line is longer than 10 bytes");
}

TEST(LineSplitterTest, BuffersAtMostOneBoundedLine) {
  LineSplitter splitter("f", 16);
  auto fn = [](const TextLine&) { return util::Status::Ok(); };
  ASSERT_TRUE(splitter.Feed("abc\r\nde", fn).ok());
  EXPECT_EQ(splitter.complete_bytes(), 5u);
  EXPECT_EQ(splitter.partial_bytes(), 2u);
  ASSERT_TRUE(splitter.Feed("f\n\n", fn).ok());
  EXPECT_EQ(splitter.complete_bytes(), 10u);
  EXPECT_EQ(splitter.partial_bytes(), 0u);
  // A huge chunk with no line end is refused without being buffered.
  EXPECT_FALSE(splitter.Feed(std::string(1 << 20, 'x'), fn).ok());
  EXPECT_EQ(splitter.partial_bytes(), 0u);
}

TEST(LineSplitterTest, RepeatsItsFirstError) {
  LineSplitter splitter("f");
  int calls = 0;
  auto fn = [&](const TextLine&) {
    ++calls;
    return util::Status::Ok();
  };
  const util::Status first = splitter.Feed("a\rb\nc\n", fn);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(splitter.Feed("d\n", fn), first);
  EXPECT_EQ(splitter.Finish(fn), first);
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(splitter.complete_bytes(), 0u);
}

TEST(LineSplitterTest, CompleteBytesStopsBeforeAFailingLine) {
  LineSplitter splitter("f");
  auto fn = [](const TextLine& line) {
    return line.text == "bad" ? util::InvalidArgument("no") : util::Status::Ok();
  };
  EXPECT_FALSE(splitter.Feed("good\r\n\nbad\nlater\n", fn).ok());
  EXPECT_EQ(splitter.complete_bytes(), 7u);  // "good\r\n\n"
}

TEST(LineSplitterTest, FinishDeliversTheLastLineOnce) {
  LineSplitter splitter("f");
  Lines got;
  auto fn = [&](const TextLine& line) {
    got.emplace_back(line.number, std::string(line.text));
    return util::Status::Ok();
  };
  ASSERT_TRUE(splitter.Feed("a\nb", fn).ok());
  EXPECT_EQ(got, (Lines{{1, "a"}}));
  ASSERT_TRUE(splitter.Finish(fn).ok());
  ASSERT_TRUE(splitter.Finish(fn).ok());
  EXPECT_EQ(got, (Lines{{1, "a"}, {2, "b"}}));
  EXPECT_EQ(splitter.complete_bytes(), 2u);  // the last line has no '\n'
}

// Every input here, cut at every offset (and at every pair of offsets for the short ones),
// must give exactly what ForEachLine gives for the whole.
std::vector<std::string> EquivalenceInputs() {
  std::vector<std::string> inputs;
  for (const char* name :
       {"credentials.txt", "tempIDs.txt", "tempIDs-final-newline.txt", "contactlog.txt"}) {
    inputs.push_back(
        test::ReadFileForTest(test::SourcePath(std::string("tests/data/original/") + name)));
  }
  inputs.insert(
      inputs.end(),
      {"", "\n", "\r\n", "a", "a\r", "a\r\n", "\r\r\n", "a\n\n \t\r\nb\r\n\r\n", "x\ny\rz\nw\n",
       std::string("p\nq\0r\ns", 7), "  lead\ntrail  \r\n\tt\n", "a\r\nb\nc\r\n\nd"});
  return inputs;
}

TEST(LineSplitterTest, MatchesForEachLineForEverySingleSplit) {
  for (const std::string& content : EquivalenceInputs()) {
    const Outcome whole = Whole(content);
    for (std::size_t cut = 0; cut <= content.size(); ++cut) {
      ASSERT_EQ(Chunked(content, {cut}), whole) << "cut at " << cut << " of " << content;
    }
    ASSERT_EQ(ByteAtATime(content), whole) << content;
  }
}

TEST(LineSplitterTest, MatchesForEachLineForEveryPairOfSplits) {
  for (const std::string& content : EquivalenceInputs()) {
    if (content.size() > 80) continue;  // the original samples get single splits above
    const Outcome whole = Whole(content);
    for (std::size_t a = 0; a <= content.size(); ++a) {
      for (std::size_t b = a; b <= content.size(); ++b) {
        ASSERT_EQ(Chunked(content, {a, b}), whole) << a << "," << b << " of " << content;
      }
    }
  }
}

TEST(LineSplitterTest, ReadsTheOriginalSamples) {
  const std::string creds =
      test::ReadFileForTest(test::SourcePath("tests/data/original/credentials.txt"));
  const Outcome o = ByteAtATime(creds);
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(o.lines, (Lines{{1, "+61410666666 kara1234"},
                            {2, "+61410777777 datha457"},
                            {3, "+61410888888 comp3331"},
                            {4, "+61410999999 bada4568"}}));
}

}  // namespace
}  // namespace bluetrace::protocol
