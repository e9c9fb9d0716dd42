// Connection on the io_uring backend (plain TCP): one multishot recv stays armed for the
// connection's life and hands each provided buffer's bytes to the input buffer; a send takes
// the write queue's front buffer itself (or a copy of several segments), so handlers may keep
// appending while the kernel sends it. A send completion sends the rest or the next capture.
// Nothing here runs on the epoll backend (connection.cpp keeps its readiness path unchanged).
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "http/connection.h"
#include "http/server.h"

namespace fa::http {

namespace {

constexpr size_t kSendChunk = 256 * 1024;  // bytes captured for one send
// Input accepted while the protocol is not reading (a request in flight, backpressure) before
// the recv is cancelled; epoll would leave these bytes in the socket.
constexpr size_t kHeldInputCap = 256 * 1024;

// A Transport that copies what the write queue flushes into `out`, up to `cap` bytes: the bytes
// of a send must stay where they are until its completion.
class CaptureTransport final : public Transport {
 public:
  CaptureTransport(std::string& out, size_t cap) : out_(out), cap_(cap) {}
  ssize_t read(char*, size_t) override {
    errno = EAGAIN;
    return -1;
  }
  ssize_t writev(const iovec* iov, int count) override {
    size_t room = cap_ > out_.size() ? cap_ - out_.size() : 0;
    if (room == 0) {
      errno = EAGAIN;
      return -1;
    }
    size_t taken = 0;
    for (int i = 0; i < count && room > 0; ++i) {
      size_t n = std::min(iov[i].iov_len, room);
      out_.append(static_cast<const char*>(iov[i].iov_base), n);
      room -= n;
      taken += n;
    }
    return static_cast<ssize_t>(taken);
  }
  void shutdown_write() override {}

 private:
  std::string& out_;
  size_t cap_;
};

// After the peer's FIN, epoll still reports the reset our next write provokes (EPOLLERR and
// EPOLLHUP are always reported), and the connection closes at once. An io_uring poll cannot
// wait for that: it completes at once on the pending RDHUP. So the ring path asks right after
// each write to a peer that has closed: on loopback the reset has arrived by then; over a
// network it is seen at the write after it (which fails), where epoll would see it a round trip
// after this one.
bool peer_reset(int fd) {
  pollfd p{fd, 0, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP));
}

}  // namespace

void Connection::ring_op_started() {
  if (ring_ops_++ == 0) ring_self_ = shared_from_this();
}

void Connection::ring_op_finished() {
  if (--ring_ops_ == 0 && ring_self_) {
    // Called from our own completion: let go of ourselves after this iteration.
    ring_loop_->defer([keep = std::move(ring_self_)] {});
  }
}

// Asks the ring for a user-space completion (kPosted) on its next dispatch: no allocation, unlike
// a deferred std::function holding a weak_ptr, and the connection stays alive meanwhile as for
// an op in flight (ring_op_started), so the loop's teardown delivers it like the others.
void Connection::ring_post() {
  ring_op_started();
  ring_->post(this);
}

void Connection::ring_on_posted() {
  if (held_deferred_) {
    held_deferred_ = false;
    if (fd_ >= 0 && reading_ && !closing_ && !in_.empty()) {
      protocol_->on_data(*this);
      if (fd_ >= 0) flush();
    }
  }
  if (flush_deferred_) {
    flush_deferred_ = false;
    ring_flush();
  }
  ring_op_finished();
}

void Connection::ring_start() {
  ring_arm_recv();
}

void Connection::ring_arm_recv() {
  if (fd_ < 0 || recv_armed_) return;
  ring_->recv_multishot(fd_, this);
  recv_armed_ = true;
  ring_op_started();
}

void Connection::ring_update() {
  if (fd_ < 0) return;
  bool reading_now = (reading_ && !closing_) || lingering_;
  if (reading_now && recv_held_) {
    // Bytes came while the protocol was not reading; epoll would report the socket readable on
    // the next iteration: hand them over then.
    recv_held_ = false;
    if (!held_deferred_) {
      held_deferred_ = true;
      ring_post();
    }
  }
  if (!recv_armed_ && !peer_closed_ && (reading_now || in_.size() < kHeldInputCap)) ring_arm_recv();
  // Where epoll would arm EPOLLOUT (output queued and nobody flushing it), flush on the next
  // iteration, as EPOLLOUT would fire then; inside a completion the flush at its end does it.
  // Not at once: update_interest runs in the middle of a protocol's work (close_after_flush
  // while h2 is still producing a stream's last DATA frame), and a send now could find the
  // queue momentarily empty and shut the write side before the rest is queued.
  if (!in_completion_ && !send_inflight_ && !out_.empty() && !flush_deferred_) {
    flush_deferred_ = true;
    ring_post();
  }
}

void Connection::on_uring(Op op, int res, bool more, const char* data) {
  // No shared_from_this() here: this completion's op keeps us alive (ring_self_ while any op
  // is in flight, then until the end of the iteration: ring_op_finished), however a protocol
  // callback closes and releases us.
  struct InCompletion {
    bool& flag;
    bool was;
    explicit InCompletion(bool& f) : flag(f), was(f) { flag = true; }
    ~InCompletion() { flag = was; }
  } in(in_completion_);
  if (op == kRecv)
    ring_on_recv(res, more, data);
  else if (op == kSend)
    ring_on_send(res);
  else
    ring_on_posted();
}

void Connection::ring_on_recv(int res, bool more, const char* data) {
  if (!more) recv_armed_ = false;
  if (fd_ >= 0) {
    if (res > 0) {
      if (!lingering_) {  // after the final response input is discarded
        char* p = in_.prepare(static_cast<size_t>(res));
        std::memcpy(p, data, static_cast<size_t>(res));
        in_.commit(static_cast<size_t>(res));
        if (reading_ && !closing_)
          protocol_->on_data(*this);
        else
          recv_held_ = true;
      }
    } else if (res == 0) {
      peer_closed_ = true;
      if (lingering_ || closing_)
        close_now();
      else
        protocol_->on_peer_closed(*this);
    } else if (res != -ENOBUFS && res != -ECANCELED && res != -EINTR && res != -EAGAIN) {
      close_now();  // ECONNRESET and the like
    }
    // -ENOBUFS: the provided buffers ran out; the recv ended and is re-armed below.
  }
  if (fd_ >= 0) {
    if (!more) {
      ring_update();  // re-arms when still wanted
    } else if (!reading_ && !lingering_ && in_.size() >= kHeldInputCap) {
      ring_->cancel_recv(this);  // enough held: leave the rest in the socket (TCP backpressure)
    }
    if (fd_ >= 0 && !out_.empty()) flush();
  }
  if (!more) ring_op_finished();
}

void Connection::ring_flush() {
  if (fd_ < 0) return;
  long written = 0;
  if (!send_inflight_ && inflight_.empty() && !out_.empty() && transport_->established()) {
    if (!in_completion_) {
      // Output from outside a completion (a timer, a deferred task, a Task finishing a
      // response) goes out at once as on epoll: one send(2), which costs no more than submitting
      // an SQE would, and backpressure stays synchronous for producers. Inside a completion the
      // ring's send is batched into the iteration's single io_uring_enter.
      size_t before = queued();
      written = out_.flush(*transport_);
      if (written < 0 || (written > 0 && peer_closed_ && peer_reset(fd_))) {
        close_now();
        return;
      }
      size_t low = server_.config().write_low_water;
      if (before > low && queued() <= low) {
        protocol_->on_drain(*this);
        if (fd_ < 0 || send_inflight_ || !inflight_.empty()) return;  // on_drain flushed again
      }
    }
    if (!out_.empty()) {
      inflight_off_ = 0;
      // The usual case (one response, or a pipelined batch's responses, in one buffer): that
      // buffer itself becomes the send's, unchanged until its completion; out_ takes the
      // previous send's buffer to fill next. Otherwise a copy of up to kSendChunk bytes.
      if (!out_.take_front(inflight_)) {
        inflight_.clear();
        CaptureTransport capture(inflight_, kSendChunk);
        if (out_.flush(capture) < 0) {  // a file body that could not be read
          close_now();
          return;
        }
      }
      if (!inflight_.empty()) {
        ring_->send(fd_, inflight_.data(), inflight_.size(), this);
        send_inflight_ = true;
        ring_op_started();
      }
    }
  }
  if (queued() != 0) {
    if (written > 0 || send_deadline_ == TimePoint::max())
      send_deadline_ = loop_now() + server_.config().send_timeout;  // progress restarts it
    return;
  }
  send_deadline_ = TimePoint::max();
  if (idle_after_flush_ != Duration::zero()) {
    deadline_ = loop_now() + idle_after_flush_;
    idle_after_flush_ = Duration::zero();
  }
  if (closing_ && !lingering_) finish_close();
}

void Connection::ring_on_send(int res) {
  send_inflight_ = false;
  if (fd_ < 0) {
    inflight_.clear();
    inflight_.shrink_to_fit();
    ring_op_finished();
    return;
  }
  if (res < 0) {
    if (res == -EINTR || res == -EAGAIN) {
      ring_->send(fd_, inflight_.data() + inflight_off_, inflight_.size() - inflight_off_, this);
      send_inflight_ = true;
      return;  // the op goes on
    }
    close_now();  // EPIPE, ECONNRESET: the peer is gone
    ring_op_finished();
    return;
  }
  if (res > 0 && peer_closed_ && peer_reset(fd_)) {
    close_now();
    ring_op_finished();
    return;
  }
  size_t before = queued();
  inflight_off_ += static_cast<size_t>(res);
  bool rest = inflight_off_ < inflight_.size();
  if (rest) {  // a short send: the rest of this capture goes first, the op goes on
    ring_->send(fd_, inflight_.data() + inflight_off_, inflight_.size() - inflight_off_, this);
    send_inflight_ = true;
  } else {
    // Its buffer goes back to out_ at the next send (take_front); a large one is freed now,
    // so an idle connection does not keep it.
    if (inflight_.capacity() > WriteQueue::kKeptCapacity)
      std::string().swap(inflight_);
    else
      inflight_.clear();
    inflight_off_ = 0;
  }
  if (res > 0 && queued() > 0) send_deadline_ = loop_now() + server_.config().send_timeout;
  size_t low = server_.config().write_low_water;
  if (before > low && queued() <= low) protocol_->on_drain(*this);
  if (rest) return;
  if (fd_ >= 0) ring_flush();
  ring_op_finished();
}

}  // namespace fa::http
