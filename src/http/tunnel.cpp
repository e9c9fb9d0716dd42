// ResponseHandle::tunnel: the exchange becomes a byte channel (RFC 8441 extended CONNECT).
#include "http/connection.h"
#include "http/response.h"

namespace fa::http {

bool ResponseHandle::tunnel(
    const ResponseHead& head,
    const std::function<std::unique_ptr<Protocol>(ByteChannel&)>& bind) const {
  auto c = conn_.lock();
  if (!c || c->closed() || !proto_->exchange_open(serial_)) return false;
  return proto_->tunnel(*c, serial_, head, bind);
}

}  // namespace fa::http
