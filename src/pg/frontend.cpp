// FrontendWriter: PostgreSQL v3 frontend message encoding.
#include "pg/frontend.h"

#include "pg/wire.h"

namespace fa::pg {

size_t FrontendWriter::begin_message(char type) {
  out_.push_back(type);
  size_t start = out_.size();
  append_be<int32_t>(out_, 0);
  return start;
}

void FrontendWriter::end_message(size_t start) {
  put_be<int32_t>(out_, start, static_cast<int32_t>(out_.size() - start));
}

static void append_cstr(std::string& out, std::string_view s) {
  out.append(s);
  out.push_back('\0');
}

void FrontendWriter::startup(std::span<const std::pair<std::string, std::string>> params) {
  size_t start = out_.size();
  append_be<int32_t>(out_, 0);
  append_be<int32_t>(out_, kProtocolVersion3);
  for (const auto& [k, v] : params) {
    append_cstr(out_, k);
    append_cstr(out_, v);
  }
  out_.push_back('\0');
  put_be<int32_t>(out_, start, static_cast<int32_t>(out_.size() - start));
}

void FrontendWriter::password(std::string_view pw) {
  size_t s = begin_message('p');
  append_cstr(out_, pw);
  end_message(s);
}

void FrontendWriter::sasl_initial(std::string_view mechanism, std::string_view data) {
  size_t s = begin_message('p');
  append_cstr(out_, mechanism);
  append_be<int32_t>(out_, static_cast<int32_t>(data.size()));
  out_.append(data);
  end_message(s);
}

void FrontendWriter::sasl_response(std::string_view data) {
  size_t s = begin_message('p');
  out_.append(data);
  end_message(s);
}

void FrontendWriter::query(std::string_view sql) {
  size_t s = begin_message('Q');
  append_cstr(out_, sql);
  end_message(s);
}

void FrontendWriter::parse(std::string_view name, std::string_view sql, std::span<const uint32_t> oids) {
  size_t s = begin_message('P');
  append_cstr(out_, name);
  append_cstr(out_, sql);
  append_be<int16_t>(out_, static_cast<int16_t>(oids.size()));
  for (uint32_t o : oids) append_be<uint32_t>(out_, o);
  end_message(s);
}

void FrontendWriter::describe_statement(std::string_view name) {
  size_t s = begin_message('D');
  out_.push_back('S');
  append_cstr(out_, name);
  end_message(s);
}

void FrontendWriter::describe_portal(std::string_view name) {
  size_t s = begin_message('D');
  out_.push_back('P');
  append_cstr(out_, name);
  end_message(s);
}

void FrontendWriter::execute(std::string_view portal, int32_t max_rows) {
  size_t s = begin_message('E');
  append_cstr(out_, portal);
  append_be<int32_t>(out_, max_rows);
  end_message(s);
}

void FrontendWriter::sync() { out_.append("S\0\0\0\4", 5); }
void FrontendWriter::flush() { out_.append("H\0\0\0\4", 5); }
void FrontendWriter::terminate() { out_.append("X\0\0\0\4", 5); }
void FrontendWriter::copy_done() { out_.append("c\0\0\0\4", 5); }

void FrontendWriter::close_statement(std::string_view name) {
  size_t s = begin_message('C');
  out_.push_back('S');
  append_cstr(out_, name);
  end_message(s);
}

void FrontendWriter::copy_data(std::string_view data) {
  out_.push_back('d');
  append_be<int32_t>(out_, static_cast<int32_t>(data.size() + 4));
  out_.append(data);
}

void FrontendWriter::copy_fail(std::string_view reason) {
  size_t s = begin_message('f');
  append_cstr(out_, reason);
  end_message(s);
}

void FrontendWriter::begin_bind(std::string_view portal, std::string_view stmt,
                                std::span<const int16_t> param_formats, int16_t nparams) {
  bind_start_ = begin_message('B');
  append_cstr(out_, portal);
  append_cstr(out_, stmt);
  append_be<int16_t>(out_, static_cast<int16_t>(param_formats.size()));
  for (int16_t f : param_formats) append_be<int16_t>(out_, f);
  append_be<int16_t>(out_, nparams);
}

void FrontendWriter::bind_null() { append_be<int32_t>(out_, -1); }

size_t FrontendWriter::begin_param() {
  size_t pos = out_.size();
  append_be<int32_t>(out_, 0);
  return pos;
}

void FrontendWriter::end_param(size_t pos) {
  put_be<int32_t>(out_, pos, static_cast<int32_t>(out_.size() - pos - 4));
}

void FrontendWriter::end_bind(std::span<const int16_t> result_formats) {
  append_be<int16_t>(out_, static_cast<int16_t>(result_formats.size()));
  for (int16_t f : result_formats) append_be<int16_t>(out_, f);
  end_message(bind_start_);
}

std::string cancel_request(int32_t pid, int32_t secret) {
  std::string out;
  append_be<int32_t>(out, 16);
  append_be<int32_t>(out, kCancelRequestCode);
  append_be<int32_t>(out, pid);
  append_be<int32_t>(out, secret);
  return out;
}

std::string ssl_request() {
  std::string out;
  append_be<int32_t>(out, 8);
  append_be<int32_t>(out, kSslRequestCode);
  return out;
}

}  // namespace fa::pg
