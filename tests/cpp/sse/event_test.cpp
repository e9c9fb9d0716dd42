// SSE framing (WHATWG HTML §9.2.5-9.2.6): fields, multi-line data on CR/LF/CRLF, comments,
// refused event names and ids.
#include "sse/event.h"

#include <gtest/gtest.h>

namespace fa::sse {
namespace {

std::string frame(const Event& ev) {
  std::string out;
  EXPECT_EQ(append_event(out, ev), FrameError::kNone);
  return out;
}

TEST(Frame, DataOnly) {
  EXPECT_EQ(frame({.data = "hello"}), "data: hello\n\n");
}

TEST(Frame, AllFields) {
  EXPECT_EQ(frame({.data = "x", .event = "update", .id = "42", .retry_ms = 3000, .comment = "hi"}),
            ": hi\nevent: update\ndata: x\nid: 42\nretry: 3000\n\n");
}

TEST(Frame, MultiLineDataSplitsOnCrLfAndCrlf) {
  EXPECT_EQ(frame({.data = "a\nb\rc\r\nd"}), "data: a\ndata: b\ndata: c\ndata: d\n\n");
  EXPECT_EQ(frame({.data = "end\n"}), "data: end\ndata: \n\n");
  EXPECT_EQ(frame({.data = ""}), "data: \n\n");
}

TEST(Frame, LeadingSpaceSurvives) {
  // The client strips one space after the colon; ours is that space.
  EXPECT_EQ(frame({.data = " indented"}), "data:  indented\n\n");
}

TEST(Frame, MultiLineComment) {
  EXPECT_EQ(frame({.comment = "a\nb"}), ": a\n: b\n\n");
}

TEST(Frame, EmptyIdResets) {
  EXPECT_EQ(frame({.id = ""}), "id: \n\n");
}

TEST(Frame, NothingSetAppendsNothing) {
  EXPECT_EQ(frame({}), "");
}

TEST(Frame, RefusesBreaksInEventAndId) {
  std::string out = "keep";
  EXPECT_EQ(append_event(out, {.data = "x", .event = "a\nb"}), FrameError::kEventHasLineBreak);
  EXPECT_EQ(append_event(out, {.data = "x", .id = "1\r"}), FrameError::kIdHasLineBreak);
  EXPECT_EQ(append_event(out, {.data = "x", .id = std::string_view("1\0", 2)}),
            FrameError::kIdHasNul);
  EXPECT_EQ(out, "keep");  // nothing appended on error
  EXPECT_FALSE(frame_error_reason(FrameError::kIdHasNul).empty());
}

}  // namespace
}  // namespace fa::sse
