// PercentDecode: a URL's percent-encoding undone (RFC 3986 section 2.1):
// "%XX" with two hex digits is the byte XX; anything else, a stray '%'
// included, stands for itself. In a query string (application/x-www-form-
// urlencoded), '+' is a space as well.
#pragma once

#include <string>
#include <string_view>

namespace tidewatch {

std::string PercentDecode(std::string_view s, bool plus_is_space = false);

}  // namespace tidewatch
