#include "bluetrace/service/contact_check.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace bluetrace::service {
namespace {

using protocol::ContactLogEntry;
using protocol::ParseTimestamp;
using protocol::TempId;
using protocol::TempIdRecord;

std::int64_t Ts(const char* text) { return *ParseTimestamp(text); }
TempId Id(const char* digits) { return *TempId::Parse(digits); }

// The original's sample tempIDs.txt as an index.
class ContactCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Add("+61410999999", "12345678901234567890", "13/05/2020 17:45:06", "13/05/2020 18:00:05");
    Add("+61410888888", "12345678901234567891", "13/05/2020 17:54:06", "13/05/2020 18:09:05");
    Add("+61410777777", "12345678901234567892", "14/05/2020 17:45:06", "14/05/2020 18:00:05");
  }
  void Add(const char* user, const char* id, const char* start, const char* expiry) {
    index_[Id(id)] = TempIdRecord{user, Id(id), Ts(start), Ts(expiry)};
  }
  // One call for the whole log, as a store answers it.
  TempIdLookup Lookup() {
    return [this](std::span<const TempId> ids) {
      ++lookups_;
      std::vector<std::optional<TempIdRecord>> out;
      for (const auto& id : ids) {
        auto it = index_.find(id);
        out.push_back(it == index_.end() ? std::nullopt : std::optional(it->second));
      }
      return out;
    };
  }
  int lookups_ = 0;
  std::map<TempId, TempIdRecord> index_;
};

TEST_F(ContactCheckTest, OriginalSampleMatchesBothEntries) {
  std::vector<ContactLogEntry> log = {
      {Id("12345678901234567890"), Ts("13/05/2020 17:45:06"), Ts("13/05/2020 18:00:05")},
      {Id("12345678901234567891"), Ts("13/05/2020 17:54:06"), Ts("13/05/2020 18:09:05")},
  };
  auto r = *CheckContacts("+61410666666", Ts("13/05/2020 18:10:00"), log, Lookup());
  EXPECT_EQ(lookups_, 1);  // one lookup for the whole log
  EXPECT_EQ(r.matched, 2u);
  EXPECT_EQ(r.unknown, 0u);
  EXPECT_EQ(r.mismatched, 0u);
  ASSERT_EQ(r.entries.size(), 2u);
  EXPECT_EQ(r.entries[0].record->user, "+61410999999");
  EXPECT_EQ(r.entries[1].record->user, "+61410888888");

  // Byte for byte what the original's server printed.
  EXPECT_EQ(FormatConsoleLines(r, protocol::TimeZoneMode::kUtc),
            "received contact log from +61410666666\n"
            "12345678901234567890,\n13/05/2020 17:45:06,\n13/05/2020 18:00:05;\n"
            "12345678901234567891,\n13/05/2020 17:54:06,\n13/05/2020 18:09:05;\n"
            "Contact log checking\n"
            "+61410999999,\n13/05/2020 17:45:06,\n12345678901234567890;\n"
            "+61410888888,\n13/05/2020 17:54:06,\n12345678901234567891;\n");
}

TEST_F(ContactCheckTest, UnknownEntriesHaveTheirOwnSectionAndFlaggedContactsStayContacts) {
  std::vector<ContactLogEntry> log = {
      {Id("99999999999999999999"), Ts("13/05/2020 17:45:06"), Ts("13/05/2020 18:00:05")},
      {Id("12345678901234567892"), Ts("14/05/2020 17:45:07"), Ts("14/05/2020 18:00:05")},
      {Id("12345678901234567890"), Ts("13/05/2020 17:45:06"), Ts("13/05/2020 18:00:05")},
  };
  auto r = *CheckContacts("+61410666666", 0, log, Lookup());
  EXPECT_EQ(r.matched + r.mismatched + r.unknown, log.size());
  EXPECT_EQ(r.unknown, 1u);
  EXPECT_EQ(r.mismatched, 1u);
  EXPECT_EQ(r.matched, 1u);
  EXPECT_FALSE(r.entries[0].known());
  EXPECT_TRUE(r.entries[1].times_differ());
  EXPECT_EQ(r.entries[1].record->user, "+61410777777");

  // The flagged contact is printed as a contact, in upload order, with its uploaded start.
  const std::string console = FormatConsoleLines(r, protocol::TimeZoneMode::kUtc);
  EXPECT_NE(console.find("Contact log checking\n"
                         "+61410777777,\n14/05/2020 17:45:07,\n12345678901234567892;\n"
                         "+61410999999,\n13/05/2020 17:45:06,\n12345678901234567890;\n"
                         "Unknown TempIDs: 1\n99999999999999999999,\n"),
            std::string::npos)
      << console;

  const std::string report = FormatReport(r, protocol::TimeZoneMode::kUtc);
  EXPECT_NE(report.find("uploader: +61410666666\n"), std::string::npos);
  EXPECT_NE(report.find("entries: 3\nmatched: 1\nmismatched: 1\nunknown: 1\n"), std::string::npos);
  EXPECT_NE(report.find("+61410999999 13/05/2020 17:45:06 12345678901234567890\n"),
            std::string::npos);
  EXPECT_NE(report.find("12345678901234567892 14/05/2020 17:45:07 14/05/2020 18:00:05 "
                        "+61410777777 14/05/2020 17:45:06 14/05/2020 18:00:05\n"),
            std::string::npos);
  EXPECT_NE(report.find("[unknown]\n# <TempID> <uploaded start> <uploaded expiry>\n"
                        "99999999999999999999 13/05/2020 17:45:06 13/05/2020 18:00:05\n"),
            std::string::npos);
}

// The original's Example 2: its second entry starts 17:54:06 against a record that starts
// 17:45:06, and the original still printed that contact. Byte for byte.
TEST_F(ContactCheckTest, TheOriginalsExampleTwoPrintsBothContacts) {
  auto log = protocol::ParseContactLog(
      "12345678901234567891 13/05/2020 17:54:06 13/05/2020 18:09:05\r\n"
      "12345678901234567892 14/05/2020 17:54:06 14/05/2020 18:09:05",
      "contact log", protocol::TimeZoneMode::kUtc, 100);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  auto r = *CheckContacts("+61410999999", 0, std::move(*log), Lookup());
  EXPECT_EQ(FormatConsoleLines(r, protocol::TimeZoneMode::kUtc),
            "received contact log from +61410999999\n"
            "12345678901234567891,\n13/05/2020 17:54:06,\n13/05/2020 18:09:05;\n"
            "12345678901234567892,\n14/05/2020 17:54:06,\n14/05/2020 18:09:05;\n"
            "Contact log checking\n"
            "+61410888888,\n13/05/2020 17:54:06,\n12345678901234567891;\n"
            "+61410777777,\n14/05/2020 17:54:06,\n12345678901234567892;\n");
  EXPECT_EQ(r.matched, 1u);
  EXPECT_EQ(r.mismatched, 1u);  // flagged in the report, a contact all the same
}

TEST_F(ContactCheckTest, EmptyLogGivesEmptySectionsAndNoExtraConsoleSections) {
  auto r = *CheckContacts("+61410666666", 0, {}, Lookup());
  EXPECT_EQ(FormatConsoleLines(r, protocol::TimeZoneMode::kUtc),
            "received contact log from +61410666666\nContact log checking\n");
  EXPECT_NE(FormatReport(r, protocol::TimeZoneMode::kUtc).find("entries: 0\nmatched: 0\n"),
            std::string::npos);
}

TEST_F(ContactCheckTest, AReportsHeaderReadsBack) {
  std::vector<ContactLogEntry> log = {
      {Id("99999999999999999999"), Ts("13/05/2020 17:45:06"), Ts("13/05/2020 18:00:05")},
      {Id("12345678901234567890"), Ts("13/05/2020 17:45:06"), Ts("13/05/2020 18:00:05")},
  };
  for (auto mode : {protocol::TimeZoneMode::kUtc, protocol::TimeZoneMode::kLocal}) {
    auto h =
        ParseReportHeader(FormatReport(*CheckContacts("+61410666666", 0, log, Lookup()), mode));
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    EXPECT_EQ(h->uploader, "+61410666666");
    EXPECT_EQ(h->entries, 2u);
    EXPECT_EQ(h->matched, 1u);
    EXPECT_EQ(h->mismatched, 0u);
    EXPECT_EQ(h->unknown, 1u);
  }
  auto empty = ParseReportHeader(
      FormatReport(*CheckContacts("+61410666666", 0, {}, Lookup()), protocol::TimeZoneMode::kUtc));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->entries, 0u);
}

TEST_F(ContactCheckTest, AMalformedReportHeaderIsNamed) {
  const std::string good =
      FormatReport(*CheckContacts("+61410666666", 0, {}, Lookup()), protocol::TimeZoneMode::kUtc);
  auto message = [](std::string_view text) {
    auto h = ParseReportHeader(text);
    return h.ok() ? std::string("ok") : h.status().message();
  };
  EXPECT_EQ(message("report text\n"), "not a contact check report (no title line)");
  EXPECT_EQ(message(good.substr(0, good.find("matched") + 3)), "report header cut short");
  EXPECT_EQ(message(good.substr(0, good.find("matched"))), "report header has no matched line");
  std::string bad = good;
  bad.replace(bad.find("unknown: 0"), 10, "unknown: x");
  EXPECT_EQ(message(bad), "malformed report header line: unknown: x");
  bad = good;
  bad.replace(bad.find("unknown: 0"), 10, "unknown: 1");
  EXPECT_EQ(message(bad), "report header counts do not add up to its entries");
  bad = good;
  bad.erase(bad.find("mismatched: 0\n"), 14);
  EXPECT_EQ(message(bad), "report header has no mismatched line");
}

// The console reads whole reports back: every section, in order, with the header's counts.
TEST_F(ContactCheckTest, AWholeReportReadsBack) {
  std::vector<ContactLogEntry> log = {
      {Id("99999999999999999999"), Ts("13/05/2020 17:45:06"), Ts("13/05/2020 18:00:05")},
      {Id("12345678901234567892"), Ts("14/05/2020 17:45:07"), Ts("14/05/2020 18:00:05")},
      {Id("12345678901234567890"), Ts("13/05/2020 17:45:06"), Ts("13/05/2020 18:00:05")},
  };
  const std::string text = FormatReport(
      *CheckContacts("+61410666666", 1'589'393'400, log, Lookup()), protocol::TimeZoneMode::kUtc);
  auto r = ParseReport(text);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->header.uploader, "+61410666666");
  EXPECT_EQ(r->received, "13/05/2020 18:10:00 UTC");
  ASSERT_EQ(r->matched.size(), 1u);
  EXPECT_EQ(r->matched[0].phone, "+61410999999");
  EXPECT_EQ(r->matched[0].start, "13/05/2020 17:45:06");
  EXPECT_EQ(r->matched[0].tempid, "12345678901234567890");
  ASSERT_EQ(r->mismatched.size(), 1u);
  EXPECT_EQ(r->mismatched[0].phone, "+61410777777");
  EXPECT_EQ(r->mismatched[0].start, "14/05/2020 17:45:07");
  EXPECT_EQ(r->mismatched[0].issued_start, "14/05/2020 17:45:06");
  ASSERT_EQ(r->unknown.size(), 1u);
  EXPECT_EQ(r->unknown[0].tempid, "99999999999999999999");
  EXPECT_EQ(r->unknown[0].expiry, "13/05/2020 18:00:05");
  EXPECT_TRUE(r->unknown[0].phone.empty());

  std::string cut = text;
  cut.erase(cut.find("+61410999999 13/05"), 54);
  EXPECT_FALSE(ParseReport(cut).ok());  // a section shorter than its count
  std::string bad = text;
  bad.replace(bad.find("+61410999999 13/05/2020"), 12, "+61410999999 extra");
  EXPECT_FALSE(ParseReport(bad).ok());
}

}  // namespace
}  // namespace bluetrace::service
