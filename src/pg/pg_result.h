// Result: the rows and command tag of one query, with the columns shared by its statement.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pg/pg_value.h"

namespace fa::pg {

struct Column {
  std::string name;
  uint32_t type_oid = 0;
};
using Columns = std::vector<Column>;

class Result;

// One row: a view into its Result (valid while the Result lives).
class Row {
 public:
  Row(const Result& r, size_t index) noexcept : r_(&r), i_(index) {}
  size_t size() const noexcept;
  // Throws std::out_of_range for a bad index or an unknown column name.
  Value operator[](size_t col) const;
  Value operator[](std::string_view name) const;

 private:
  const Result* r_;
  size_t i_;
};

class Result {
 public:
  Result() = default;

  size_t size() const noexcept { return nrows_; }
  bool empty() const noexcept { return nrows_ == 0; }
  // Throws std::out_of_range past the last row.
  Row operator[](size_t i) const;
  const Columns& columns() const noexcept;
  // The index of the first column with this name, or -1.
  int column_index(std::string_view name) const noexcept;
  // The CommandComplete tag ("SELECT 1", "UPDATE 3"); empty for an empty query.
  const std::string& command_tag() const noexcept { return tag_; }
  // Rows returned or affected, from the tag ("INSERT 0 5" -> 5), or -1 if it names none.
  int64_t rows_affected() const noexcept;

  class iterator {
   public:
    iterator(const Result& r, size_t i) : r_(&r), i_(i) {}
    Row operator*() const { return Row(*r_, i_); }
    iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator==(const iterator& o) const { return i_ == o.i_; }

   private:
    const Result* r_;
    size_t i_;
  };
  iterator begin() const { return iterator(*this, 0); }
  iterator end() const { return iterator(*this, nrows_); }

  // Filled by the connection as the server answers.
  void set_columns(std::shared_ptr<const Columns> c) noexcept { columns_ = std::move(c); }
  bool has_columns() const noexcept { return columns_ != nullptr; }
  // Appends one DataRow body; false if it is malformed or its column count is wrong.
  bool add_row(std::string_view body);
  void set_tag(std::string_view tag) { tag_.assign(tag); }

 private:
  friend class Row;
  struct Field {
    uint32_t offset;
    int32_t len;  // -1: NULL
  };
  std::shared_ptr<const Columns> columns_;
  std::string data_;           // every value's bytes, back to back
  std::vector<Field> fields_;  // row-major: nrows_ * columns
  size_t nrows_ = 0;
  std::string tag_;
};

}  // namespace fa::pg
