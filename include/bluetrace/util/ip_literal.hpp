// Whether a string is an IP address literal, the one check the configuration, the
// certificate generator and TLS host-name verification share. Pure; thread-safe.
#pragma once

#include <string>

namespace bluetrace::util {

// True for an IPv4 dotted quad ("127.0.0.1", no leading zeros) or an IPv6 address ("::1",
// "::ffff:1.2.3.4") as inet_pton reads them. False for host names, bracketed ("[::1]") or
// scoped ("fe80::1%eth0") forms, surrounding spaces, and strings holding a NUL byte.
bool IsIpLiteral(const std::string& s);

}  // namespace bluetrace::util
