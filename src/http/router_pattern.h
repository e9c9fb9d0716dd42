// Route pattern parser: splits "/repos/{owner}/{n:int}/{rest:path}" into its segments (static
// text or a typed parameter), and rejects malformed patterns with a RouteError that says what to
// write instead.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace fa::http {

enum class PieceKind : uint8_t { kStatic, kInt, kStr, kPath };

struct PatternPiece {
  PieceKind kind = PieceKind::kStatic;
  std::string text;  // kStatic: the segment's bytes (no '/'; may be empty); else the param name
};

// Parses `pattern` into one piece per '/'-separated segment, in order: "/" is one empty static
// segment, "/a/" is "a" then "". Throws RouteError on a malformed pattern.
std::vector<PatternPiece> parse_route_pattern(std::string_view pattern);

}  // namespace fa::http
