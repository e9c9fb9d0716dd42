#pragma once
// What a C++ server's main() does last: run the loop until SIGINT or SIGTERM asks it to stop.

#include "core/event_loop.h"

namespace fa {

// Installs SIGINT and SIGTERM handlers that stop `loop`, ignores SIGPIPE (a write to a peer
// that has gone is then an EPIPE error on that connection, not the end of the process), runs
// the loop until stop(), and puts the previous SIGINT/SIGTERM handlers back. One loop at a time.
void run_until_signal(EventLoop& loop);

}  // namespace fa
