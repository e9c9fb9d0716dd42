# Shared by onemrc_callgrind.sh and loop_backends_callgrind.sh (sourced): starting and stopping
# a server under valgrind --tool=callgrind on a loopback port.

# Waits until something accepts on 127.0.0.1:$1 (valgrind starts slowly), at most 30 s.
wait_listening() {
  local port=$1
  for _ in $(seq 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  return 0
}

# SIGINT, then a request now and then until the server has exited: valgrind keeps signals
# blocked around io_uring_enter and delivers them at a scheduling quantum's end, so an idle
# server on the io_uring backend would not see it for a long time. Those few requests (tens,
# their number varies) count in both runs alike, within a few instructions per request.
stop_server() {
  local pid=$1 port=$2
  kill -INT "$pid"
  for _ in $(seq 600); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
    (exec 3<>"/dev/tcp/127.0.0.1/$port" && printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' >&3 &&
      timeout 1 head -c 1 <&3 >/dev/null) 2>/dev/null || true
  done
  wait "$pid" || true
}
