// Protocol: one method per state; authentication answered internally (§55.2.1, §55.3).
#include "pg/protocol.h"

#include "pg/md5_password.h"
#include "pg/wire.h"

namespace fa::pg {

namespace {
// AuthenticationRequest codes (§55.7 'R').
constexpr int32_t kAuthOk = 0;
constexpr int32_t kAuthCleartext = 3;
constexpr int32_t kAuthMd5 = 5;
constexpr int32_t kAuthSasl = 10;
constexpr int32_t kAuthSaslContinue = 11;
constexpr int32_t kAuthSaslFinal = 12;
constexpr size_t kCompactBytes = 64 * 1024;  // drop consumed input past this to bound memory
}  // namespace

Protocol::Protocol(ConnectParams params) : params_(std::move(params)) {}

void Protocol::start() {
  std::vector<std::pair<std::string, std::string>> p;
  p.emplace_back("user", params_.user);
  if (!params_.database.empty()) p.emplace_back("database", params_.database);
  p.emplace_back("client_encoding", "UTF8");
  for (const auto& kv : params_.options) p.push_back(kv);
  writer_.startup(p);
}

void Protocol::feed(std::string_view bytes) {
  if (pos_ == in_.size()) {
    in_.clear();
    pos_ = 0;
  } else if (pos_ >= kCompactBytes) {
    in_.erase(0, pos_);
    pos_ = 0;
  }
  in_.append(bytes);
}

Event Protocol::fail(std::string reason) {
  state_ = State::kBroken;
  error_ = std::move(reason);
  return {EventKind::kProtocolError, {}};
}

Event Protocol::next() {
  for (;;) {
    if (state_ == State::kBroken) return {EventKind::kProtocolError, {}};
    Message m;
    long n = frame_message(std::string_view(in_).substr(pos_), m);
    if (n == 0) return {};
    if (n < 0) return fail("malformed message length from server");
    pos_ += static_cast<size_t>(n);
    Event e = state_ == State::kAuthenticating ? on_authenticating(m) : on_running(m);
    if (e.kind != EventKind::kNeedMore) return e;  // kNeedMore here = consumed internally
  }
}

Event Protocol::on_authenticating(const Message& m) {
  switch (m.type) {
    case 'R': return on_auth_request(m.body);
    case 'E': {
      state_ = State::kBroken;  // startup errors end the connection (§55.2.1)
      error_ = "startup failed";
      return {EventKind::kError, m.body};
    }
    case 'N': return {EventKind::kNotice, m.body};
    case 'v': return {};  // NegotiateProtocolVersion: we ask for 3.0 with no _pq_ options (§55.2.1)
    default: return fail(std::string("unexpected message during authentication: ") + m.type);
  }
}

Event Protocol::on_auth_request(std::string_view body) {
  Reader r(body);
  int32_t code = r.be<int32_t>();
  if (!r.ok()) return fail("malformed authentication request");
  switch (code) {
    case kAuthOk:
      state_ = State::kRunning;
      return {};
    case kAuthCleartext:
      writer_.password(params_.password);
      return {};
    case kAuthMd5: {
      std::string_view salt = r.bytes(4);
      if (!r.ok()) return fail("malformed MD5 salt");
      writer_.password(md5_password(params_.user, params_.password, salt));
      return {};
    }
    case kAuthSasl: {
      bool has_scram = false;
      while (r.ok() && r.remaining() > 0) {
        std::string_view mech = r.cstr();
        if (mech.empty()) break;
        if (mech == "SCRAM-SHA-256") has_scram = true;
      }
      if (!has_scram) return fail("server offers no SASL mechanism we support (need SCRAM-SHA-256)");
      scram_ = std::make_unique<ScramClient>("", params_.password);
      writer_.sasl_initial("SCRAM-SHA-256", scram_->client_first());
      return {};
    }
    case kAuthSaslContinue: {
      if (!scram_) return fail("SASLContinue without SASL");
      std::string final_msg = scram_->client_final(r.rest());
      if (final_msg.empty()) return fail(scram_->error());
      writer_.sasl_response(final_msg);
      return {};
    }
    case kAuthSaslFinal: {
      if (!scram_ || !scram_->verify_server_final(r.rest()))
        return fail(scram_ ? scram_->error() : "SASLFinal without SASL");
      return {};
    }
    default:
      return fail("unsupported authentication method code " + std::to_string(code) +
                  " (supported: trust, password, md5, scram-sha-256)");
  }
}

Event Protocol::on_running(const Message& m) {
  switch (m.type) {
    case 'Z':
      tx_status_ = m.body.empty() ? 'I' : m.body[0];
      return {EventKind::kReady, m.body};
    case 'T': return {EventKind::kRowDescription, m.body};
    case 'D': return {EventKind::kDataRow, m.body};
    case 'C': return {EventKind::kCommandComplete, m.body.substr(0, m.body.empty() ? 0 : m.body.size() - 1)};
    case '1': return {EventKind::kParseComplete, m.body};
    case '2': return {EventKind::kBindComplete, m.body};
    case '3': return {EventKind::kCloseComplete, m.body};
    case 't': return {EventKind::kParameterDescription, m.body};
    case 'n': return {EventKind::kNoData, m.body};
    case 'I': return {EventKind::kEmptyQuery, m.body};
    case 's': return {EventKind::kPortalSuspended, m.body};
    case 'E': return {EventKind::kError, m.body};
    case 'N': return {EventKind::kNotice, m.body};
    case 'A': return {EventKind::kNotification, m.body};
    case 'G': return {EventKind::kCopyInResponse, m.body};
    case 'H': return {EventKind::kCopyOutResponse, m.body};
    case 'd': return {EventKind::kCopyData, m.body};
    case 'c': return {EventKind::kCopyDone, m.body};
    case 'S': {
      Reader r(m.body);
      std::string_view k = r.cstr(), v = r.cstr();
      if (r.ok()) server_params_[std::string(k)] = std::string(v);
      return {EventKind::kParameterStatus, m.body};
    }
    case 'K': {
      Reader r(m.body);
      pid_ = r.be<int32_t>();
      secret_ = r.be<int32_t>();
      return {EventKind::kBackendKeyData, m.body};
    }
    default: return fail(std::string("unexpected message type from server: ") + m.type);
  }
}

}  // namespace fa::pg
