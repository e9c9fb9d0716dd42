// Sequential MCP tools/call over a server's stdio, for benchmarks/mcp/bench_mcp.py: requests go
// out on fd 1 (the server's stdin), replies come in on fd 0 (the server's stdout), one
// newline-delimited JSON-RPC message each (basic/transports.mdx "stdio"). A C client costs a few
// microseconds per call where the bench's Python one costs ~100, so sequential calls/s say how
// fast the server answers, not how fast the client asks.
//
//   stdio_caller FIRST_ID CALLS TOOL      (the session is initialized already)
//
// Call i is TOOL(a=i, b=7); its reply must carry the text "i+7" and no "isError":true. Lines
// without the call's id (notifications, log lines) are skipped. Prints the number of wrong
// replies on stderr; exits 1 when the server closes its stdout early.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char buf[1 << 20];
static size_t len;

static void write_all(const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(1, p, n);
    if (w <= 0) exit(1);
    p += w;
    n -= (size_t)w;
  }
}

// Whether `line` has the member "key" with the JSON text `value` (spaces allowed around ':').
static int has_member(const char* line, size_t n, const char* key, const char* value) {
  size_t klen = strlen(key), vlen = strlen(value);
  const char* end = line + n;
  for (const char* p = line; p + klen + 2 < end; ++p) {
    p = memchr(p, '"', (size_t)(end - p));
    if (!p || p + klen + 2 >= end) return 0;
    if (memcmp(p + 1, key, klen) != 0 || p[klen + 1] != '"') continue;
    const char* q = p + klen + 2;
    while (q < end && *q == ' ') ++q;
    if (q >= end || *q != ':') continue;
    ++q;
    while (q < end && *q == ' ') ++q;
    if ((size_t)(end - q) < vlen || memcmp(q, value, vlen) != 0) continue;
    char after = q + vlen < end ? q[vlen] : '\n';
    if (after >= '0' && after <= '9') continue;  // "id":12 is not "id":123
    return 1;
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s FIRST_ID CALLS TOOL\n", argv[0]);
    return 2;
  }
  long first = atol(argv[1]), calls = atol(argv[2]);
  const char* tool = argv[3];
  long errors = 0;
  char out[512], id[32], text[32];
  for (long i = first; i < first + calls; ++i) {
    int n = snprintf(out, sizeof out,
                     "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":\"tools/call\",\"params\":"
                     "{\"name\":\"%s\",\"arguments\":{\"a\":%ld,\"b\":7}}}\n",
                     i, tool, i);
    write_all(out, (size_t)n);
    snprintf(id, sizeof id, "%ld", i);
    snprintf(text, sizeof text, "\"%ld\"", i + 7);
    for (;;) {
      char* nl;
      while (!(nl = memchr(buf, '\n', len))) {
        if (len == sizeof buf) exit(1);  // a line past 1 MiB
        ssize_t r = read(0, buf + len, sizeof buf - len);
        if (r <= 0) exit(1);
        len += (size_t)r;
      }
      size_t line = (size_t)(nl - buf) + 1;
      int mine = has_member(buf, line, "id", id);
      if (mine && (!has_member(buf, line, "text", text) || has_member(buf, line, "isError", "true")))
        ++errors;
      memmove(buf, buf + line, len - line);
      len -= line;
      if (mine) break;
    }
  }
  fprintf(stderr, "%ld\n", errors);
  return 0;
}
