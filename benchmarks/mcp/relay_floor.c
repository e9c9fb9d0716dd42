// The floor for a stdio MCP proxy: a bare epoll relay, stdin -> child's stdin and child's
// stdout -> stdout, one read and one write per wake-up, no parsing. Its CPU per forwarded call
// is what any proxy pays for the two sleeps and two wake-ups of a sequential call on this
// machine; benchmarks/mcp/relay_floor.py runs it next to MCPProxy.
//
//   cc -O2 -o build/relay_floor benchmarks/mcp/relay_floor.c
//   build/relay_floor python3 examples/mcp/bench_fasterapi.py --transport stdio
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: relay_floor COMMAND [ARG...]\n");
    return 2;
  }
  int to_child[2], from_child[2];
  if (pipe(to_child) || pipe(from_child)) return 1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(to_child[0], 0);
    dup2(from_child[1], 1);
    close(to_child[1]);
    close(from_child[0]);
    execvp(argv[1], argv + 1);
    _exit(127);
  }
  close(to_child[0]);
  close(from_child[1]);
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN};
  ev.data.fd = 0;
  epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
  ev.data.fd = from_child[0];
  epoll_ctl(ep, EPOLL_CTL_ADD, from_child[0], &ev);
  static char buf[1 << 16];
  struct epoll_event ready[2];
  for (;;) {
    int n = epoll_wait(ep, ready, 2, -1);
    for (int i = 0; i < n; i++) {
      int fd = ready[i].data.fd;
      ssize_t got = read(fd, buf, sizeof buf);
      if (got <= 0) {  // EOF on either side: close the child's stdin and wait for it
        close(to_child[1]);
        waitpid(pid, NULL, 0);
        return 0;
      }
      int out = fd == 0 ? to_child[1] : 1;
      for (ssize_t off = 0; off < got;) {
        ssize_t w = write(out, buf + off, (size_t)(got - off));
        if (w <= 0) return 1;
        off += w;
      }
    }
  }
}
