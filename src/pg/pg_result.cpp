// Result: DataRow values (§55.7 'D') copied into one buffer, indexed row-major.
#include "pg/pg_result.h"

#include <stdexcept>

#include "pg/backend.h"

namespace fa::pg {

namespace {
const Columns kNoColumns;
constexpr size_t kMaxResultBytes = uint32_t(-1);  // offsets are 32-bit: 4 GiB per result
}  // namespace

const Columns& Result::columns() const noexcept {
  return columns_ ? *columns_ : kNoColumns;
}

int Result::column_index(std::string_view name) const noexcept {
  const Columns& c = columns();
  for (size_t i = 0; i < c.size(); ++i)
    if (c[i].name == name) return static_cast<int>(i);
  return -1;
}

int64_t Result::rows_affected() const noexcept {
  return command_rowcount(tag_);
}

Row Result::operator[](size_t i) const {
  if (i >= nrows_) throw std::out_of_range("pg::Result: row index out of range");
  return Row(*this, i);
}

bool Result::add_row(std::string_view body) {
  DataRowReader r(body);
  size_t n = columns().size();
  if (!r.ok() || static_cast<size_t>(r.count()) != n) return false;
  if (data_.size() + body.size() > kMaxResultBytes) return false;
  size_t mark = fields_.size();
  std::string_view v;
  bool null = false;
  while (r.next(v, null)) {
    if (null) {
      fields_.push_back({0, -1});
    } else {
      fields_.push_back({static_cast<uint32_t>(data_.size()), static_cast<int32_t>(v.size())});
      data_.append(v);
    }
  }
  if (!r.ok() || fields_.size() - mark != n) {
    fields_.resize(mark);
    return false;
  }
  ++nrows_;
  return true;
}

size_t Row::size() const noexcept {
  return r_->columns().size();
}

Value Row::operator[](size_t col) const {
  const Columns& c = r_->columns();
  if (col >= c.size()) throw std::out_of_range("pg::Row: column index out of range");
  const Result::Field& f = r_->fields_[i_ * c.size() + col];
  return Value(c[col].type_oid, r_->data_.data() + f.offset, f.len);
}

Value Row::operator[](std::string_view name) const {
  int i = r_->column_index(name);
  if (i < 0) throw std::out_of_range("pg::Row: no column named " + std::string(name));
  return (*this)[static_cast<size_t>(i)];
}

}  // namespace fa::pg
