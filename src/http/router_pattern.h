// Route pattern parser: splits "/repos/{owner}/{n:int}/{rest:path}" into static runs and typed
// parameters, and rejects malformed patterns with a RouteError that says what to write instead.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace fa::http {

enum class PieceKind : uint8_t { kStatic, kInt, kStr, kPath };

struct PatternPiece {
  PieceKind kind = PieceKind::kStatic;
  std::string text;  // kStatic: the bytes to match (separators included); else the param name
};

// Parses `pattern` into alternating static runs and parameters, in order. A static run always
// ends with '/' when a parameter follows it. Throws RouteError on a malformed pattern.
std::vector<PatternPiece> parse_route_pattern(std::string_view pattern);

}  // namespace fa::http
