// Protocol: the sans-I/O PostgreSQL v3 client state machine (bytes in, events out).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "pg/backend.h"
#include "pg/frontend.h"
#include "pg/scram_client.h"

namespace fa::pg {

struct ConnectParams {
  std::string user;
  std::string password;
  std::string database;
  std::vector<std::pair<std::string, std::string>> options;  // extra startup parameters
};

enum class EventKind {
  kNeedMore,        // no complete message buffered; feed() more bytes
  kProtocolError,   // the stream or the handshake is broken; see error(); the connection is dead
  kReady,           // ReadyForQuery; tx_status() holds 'I', 'T' or 'E'
  kRowDescription,
  kDataRow,
  kCommandComplete,
  kParseComplete,
  kBindComplete,
  kCloseComplete,
  kParameterDescription,
  kNoData,
  kEmptyQuery,
  kPortalSuspended,
  kError,           // ErrorResponse: body holds the fields (parse_error_fields)
  kNotice,          // NoticeResponse
  kNotification,    // NotificationResponse (LISTEN/NOTIFY)
  kCopyInResponse,
  kCopyOutResponse,
  kCopyData,
  kCopyDone,
  kParameterStatus,
  kBackendKeyData,
};

// One event; body is a view into the protocol's buffer, valid until the next feed().
struct Event {
  EventKind kind = EventKind::kNeedMore;
  std::string_view body;
};

// The connection's state machine. Authentication (trust, cleartext, MD5, SCRAM-SHA-256) is answered
// internally by writing to out(); everything else is surfaced as events for the caller to pair with
// its FIFO of pending requests (one kReady per Sync or simple Query).
class Protocol {
 public:
  explicit Protocol(ConnectParams params);

  // Writes the StartupMessage to out().
  void start();
  // Buffers received bytes. Views from earlier events become invalid.
  void feed(std::string_view bytes);
  // Returns the next event, or kNeedMore when no complete message is buffered.
  Event next();

  // Bytes to send; the caller writes and clears them.
  std::string& out() { return writer_.out(); }
  FrontendWriter& writer() { return writer_; }

  bool authenticated() const { return state_ != State::kAuthenticating; }
  char tx_status() const { return tx_status_; }
  int32_t backend_pid() const { return pid_; }
  int32_t secret_key() const { return secret_; }
  const std::string& error() const { return error_; }
  // Server parameters reported by ParameterStatus (server_version, TimeZone, ...).
  const std::unordered_map<std::string, std::string>& server_params() const { return server_params_; }

 private:
  enum class State { kAuthenticating, kRunning, kBroken };
  Event on_authenticating(const Message& m);
  Event on_running(const Message& m);
  Event on_auth_request(std::string_view body);
  Event fail(std::string reason);

  ConnectParams params_;
  FrontendWriter writer_;
  std::string in_;
  size_t pos_ = 0;
  State state_ = State::kAuthenticating;
  char tx_status_ = 'I';
  int32_t pid_ = 0;
  int32_t secret_ = 0;
  std::string error_;
  std::unique_ptr<ScramClient> scram_;
  std::unordered_map<std::string, std::string> server_params_;
};

}  // namespace fa::pg
