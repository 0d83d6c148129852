// How the programs' log lines look on stderr, decided once at start-up:
//  - under systemd's journal (JOURNAL_STREAM names our stderr): each line starts with its
//    syslog priority, "<3>" for an error, so journald stores errors as errors, and carries
//    no time of its own (journald adds it);
//  - on a terminal: the time and the level, coloured;
//  - anywhere else (a file, a pipe): the time and the level.
// Call before any thread logs.
#pragma once

#include <string>

namespace bluetrace::apps {

// The logger named `name` on stderr at `level` (spdlog's names), made the default.
void SetUpStderrLogging(const std::string& name, const std::string& level);

// Whether JOURNAL_STREAM ("<device>:<inode>") names the file open on stderr.
bool StderrIsJournal();

}  // namespace bluetrace::apps
