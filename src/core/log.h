// Minimal leveled logging to stderr for the core (the Python layer uses `logging`).
#pragma once

#include <cstdio>

namespace fa {

enum class LogLevel : int { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3, kOff = 4 };

inline LogLevel& log_level() {
  static LogLevel level = LogLevel::kWarning;
  return level;
}

#define FA_LOG(level, ...)                                        \
  do {                                                            \
    if (static_cast<int>(level) >= static_cast<int>(::fa::log_level())) { \
      std::fprintf(stderr, "fasterapi: " __VA_ARGS__);            \
      std::fputc('\n', stderr);                                   \
    }                                                             \
  } while (0)

}  // namespace fa
