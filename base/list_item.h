// PopListItem: the items of a separated list ("a, b,,c") one at a time, each
// trimmed of white space (TrimSpace). An empty item ("" between two
// separators, or a blank list) comes back empty: callers skip or refuse it.
#pragma once

#include <string_view>

#include "base/trim_space.h"

namespace tidewatch {

// The item before the first `separator` in *list, trimmed; *list keeps what
// follows that separator, and is empty after the last item.
inline std::string_view PopListItem(std::string_view* list, char separator) {
  const size_t at = list->find(separator);
  std::string_view item = TrimSpace(list->substr(0, at));
  *list = at == std::string_view::npos ? std::string_view() : list->substr(at + 1);
  return item;
}

}  // namespace tidewatch
