// ResponseCompressor: RFC 9110 §8.4 (Content-Encoding), §12.5.3 (Accept-Encoding), §12.5.5 (Vary).
#include "http/response_compressor.h"

#include "compress/accept_encoding.h"
#include "compress/response_policy.h"
#include "core/log.h"
#include "http/ascii.h"

namespace fa::http {

namespace {

constexpr size_t kKeepBufferCapacity = 256 * 1024;  // bytes; larger buffers are freed after use

// Appends one "Name: value" line; a strong ETag becomes weak when the body is encoded: the
// bytes differ from the identity representation's (RFC 9110 §8.8.3; nginx does the same).
void append_line(std::string& out, std::string_view line, bool encoded) {
  size_t colon = line.find(':');
  if (encoded && colon != std::string_view::npos &&
      ascii_iequals(line.substr(0, colon), "etag")) {
    size_t v = colon + 1;
    while (v < line.size() && line[v] == ' ') ++v;
    if (v < line.size() && line[v] == '"') {
      out.append(line.substr(0, v)).append("W/").append(line.substr(v));
      return;
    }
  }
  out.append(line);
}

void add_coding_headers(std::string& out, std::string_view extra, bool vary,
                        compress::Coding coding, bool drop_length) {
  out.clear();
  bool encoded = coding != compress::Coding::kIdentity;
  while (!extra.empty()) {
    size_t eol = extra.find('\n');
    std::string_view line = extra.substr(0, eol == std::string_view::npos ? extra.size() : eol + 1);
    extra.remove_prefix(line.size());
    if (drop_length && ascii_iequals(line.substr(0, line.find(':')), "content-length")) continue;
    append_line(out, line, encoded);
  }
  if (coding != compress::Coding::kIdentity)
    out.append("Content-Encoding: ").append(compress::coding_name(coding)).append("\r\n");
  if (vary) out.append("Vary: Accept-Encoding\r\n");
}

}  // namespace

void ResponseCompressor::begin(const compress::CompressionConfig& config, const RequestHead& req) {
  encoder_.reset();
  config_ = config.enabled() ? &config : nullptr;
  coding_ = compress::Coding::kIdentity;
  if (!config_) return;
  compress::AcceptEncoding ae;
  bool any = false;
  for (size_t i = 0; i < req.num_headers; ++i) {
    if (ascii_iequals(req.headers[i].name, "accept-encoding")) {
      ae.add(req.headers[i].value);
      any = true;
    }
  }
  if (any) coding_ = ae.choose(config_->codings);
}

void ResponseCompressor::on_send(ResponseHead& head, std::string_view& body, bool head_only) {
  if (!config_) return;
  compress::Plan plan =
      compress::plan_response(*config_, coding_,
                              {head.status, head_only, head.content_type, head.extra_headers,
                               static_cast<int64_t>(body.size())});
  if (!plan.vary) return;
  compress::Coding used = compress::Coding::kIdentity;
  // HEAD is encoded too, so its Content-Length is the encoded size a GET would announce
  // (RFC 9110 §9.3.2: same header fields as GET); the protocol sends the head alone. The
  // handler built the whole body for HEAD anyway, and encoding it costs what a GET would.
  if (plan.compress) {
    out_.clear();
    if (compress::compress_all(coding_, config_->level(coding_), body, out_)) {
      used = coding_;
      body = out_;
    } else {
      FA_LOG(LogLevel::kError, "%s encoding failed; sending the body as is",
             compress::coding_name(coding_).data());
    }
  }
  add_coding_headers(headers_, head.extra_headers, true, used, false);
  head.extra_headers = headers_;
}

void ResponseCompressor::on_start(ResponseHead& head, bool head_only, bool& has_length) {
  if (!config_) return;
  // A stream's size is unknown; one the handler framed with Content-Length is not compared to
  // min_size either (streamed bodies are usually large).
  compress::Plan plan = compress::plan_response(
      *config_, coding_, {head.status, head_only, head.content_type, head.extra_headers, -1});
  if (!plan.vary) return;
  // HEAD gets the head a GET would (Content-Encoding, no Content-Length, which only the
  // encoded stream could tell), but no encoder: no body follows.
  if (plan.compress && !head_only)
    encoder_ = compress::make_encoder(coding_, config_->level(coding_));
  bool encoded = plan.compress && (encoder_ != nullptr || head_only);
  bool drop_length = encoded && has_length;
  add_coding_headers(headers_, head.extra_headers, true,
                     encoded ? coding_ : compress::Coding::kIdentity, drop_length);
  head.extra_headers = headers_;
  if (drop_length) has_length = false;
}

bool ResponseCompressor::on_write(std::string_view chunk, std::string_view& out) {
  if (out_.capacity() > kKeepBufferCapacity) std::string().swap(out_);
  out_.clear();
  if (!encoder_->write(chunk, out_)) return false;
  out = out_;
  return true;
}

bool ResponseCompressor::on_end(std::string_view& out) {
  out_.clear();
  bool ok = encoder_->finish({}, out_);
  encoder_.reset();
  out = out_;
  return ok;
}

}  // namespace fa::http
