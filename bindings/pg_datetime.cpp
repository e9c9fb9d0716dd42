// pg codecs: date, time, timetz, timestamp, timestamptz, interval (binary, integer datetimes).
#include <Python.h>
#include <datetime.h>

#include <climits>
#include <cstdint>
#include <string>

#include "pg/wire.h"
#include "pg_codecs_impl.h"

namespace fa::py::pg {

using fa::pg::append_be;
using fa::pg::read_be;

namespace {
constexpr int64_t kUsPerSecond = 1'000'000;
constexpr int64_t kUsPerDay = 86'400 * kUsPerSecond;
constexpr int64_t kPgEpochDaysFromUnix = 10'957;     // 2000-01-01 minus 1970-01-01, in days
constexpr int64_t kTimestampInfinity = INT64_MAX;     // PostgreSQL's 'infinity' timestamp
constexpr int64_t kTimestampNegInfinity = INT64_MIN;  // '-infinity'
constexpr int32_t kDateInfinity = INT32_MAX;
constexpr int32_t kDateNegInfinity = INT32_MIN;
constexpr int kDaysPerMonth = 30;  // interval months become 30-day timedeltas (as asyncpg does)

PyObject* g_date_max = nullptr;
PyObject* g_date_min = nullptr;
PyObject* g_dt_max = nullptr;
PyObject* g_dt_min = nullptr;
PyObject* g_dtz_max = nullptr;
PyObject* g_dtz_min = nullptr;

// Days since 1970-01-01 -> civil date (H. Hinnant's algorithm, proleptic Gregorian).
void civil_from_days(int64_t z, int& y, int& m, int& d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t yy = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(yy + (m <= 2));
}

int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int64_t floordiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

PyObject* new_ref(PyObject* o) {
  Py_INCREF(o);
  return o;
}

PyObject* out_of_range(const char* what) {
  PyErr_Format(PyExc_ValueError, "PostgreSQL %s value is outside Python's datetime range (years 1..9999)", what);
  return nullptr;
}

PyObject* make_datetime(int64_t us, PyObject* tz) {
  int64_t days = floordiv(us, kUsPerDay);
  int64_t rem = us - days * kUsPerDay;
  int y, mo, d;
  civil_from_days(days + kPgEpochDaysFromUnix, y, mo, d);
  if (y < 1 || y > 9999) return out_of_range("timestamp");
  int64_t secs = rem / kUsPerSecond;
  return PyDateTimeAPI->DateTime_FromDateAndTime(y, mo, d, static_cast<int>(secs / 3600),
                                                 static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60),
                                                 static_cast<int>(rem % kUsPerSecond), tz,
                                                 PyDateTimeAPI->DateTimeType);
}

int64_t time_us(PyObject* t) {
  return ((PyDateTime_TIME_GET_HOUR(t) * 60LL + PyDateTime_TIME_GET_MINUTE(t)) * 60 +
          PyDateTime_TIME_GET_SECOND(t)) * kUsPerSecond + PyDateTime_TIME_GET_MICROSECOND(t);
}

// utcoffset() of an aware object in seconds; returns false (no exception) if naive.
bool utc_offset_seconds(PyObject* v, int64_t& secs, bool& err) {
  err = false;
  PyObject* off = PyObject_CallMethod(v, "utcoffset", nullptr);
  if (!off) { err = true; return false; }
  if (off == Py_None) { Py_DECREF(off); return false; }
  secs = PyDateTime_DELTA_GET_DAYS(off) * 86400LL + PyDateTime_DELTA_GET_SECONDS(off);
  Py_DECREF(off);
  return true;
}

bool type_error(const char* want, PyObject* v) {
  PyErr_Format(PyExc_TypeError, "expected %s, got %.100s", want, Py_TYPE(v)->tp_name);
  return false;
}
}  // namespace

bool datetime_init() {
  PyDateTime_IMPORT;
  if (!PyDateTimeAPI) return false;
  PyObject* dt = reinterpret_cast<PyObject*>(PyDateTimeAPI->DateTimeType);
  PyObject* date = reinterpret_cast<PyObject*>(PyDateTimeAPI->DateType);
  g_date_max = PyObject_GetAttrString(date, "max");
  g_date_min = PyObject_GetAttrString(date, "min");
  g_dt_max = PyObject_GetAttrString(dt, "max");
  g_dt_min = PyObject_GetAttrString(dt, "min");
  if (!g_date_max || !g_date_min || !g_dt_max || !g_dt_min) return false;
  // datetime.replace(tzinfo=UTC): the C datetime rejects None for the positional fields.
  auto with_utc = [](PyObject* d) -> PyObject* {
    PyObject* replace = PyObject_GetAttrString(d, "replace");
    PyObject* empty = PyTuple_New(0);
    PyObject* kw = Py_BuildValue("{s:O}", "tzinfo", PyDateTime_TimeZone_UTC);
    PyObject* r = (replace && empty && kw) ? PyObject_Call(replace, empty, kw) : nullptr;
    Py_XDECREF(replace);
    Py_XDECREF(empty);
    Py_XDECREF(kw);
    return r;
  };
  g_dtz_max = with_utc(g_dt_max);
  g_dtz_min = with_utc(g_dt_min);
  return g_dtz_max && g_dtz_min;
}

PyObject* decode_date(const char* p, size_t n) {
  if (n != 4) return bad_data("date");
  int32_t days = read_be<int32_t>(p);
  if (days == kDateInfinity) return new_ref(g_date_max);
  if (days == kDateNegInfinity) return new_ref(g_date_min);
  int y, m, d;
  civil_from_days(days + kPgEpochDaysFromUnix, y, m, d);
  if (y < 1 || y > 9999) return out_of_range("date");
  return PyDate_FromDate(y, m, d);
}

static PyObject* time_from_us(int64_t us, PyObject* tz) {
  if (us < 0 || us > kUsPerDay) return bad_data("time");
  if (us == kUsPerDay) us -= 1;  // 24:00:00 is valid in PostgreSQL, not in Python
  int64_t s = us / kUsPerSecond;
  return PyDateTimeAPI->Time_FromTime(static_cast<int>(s / 3600), static_cast<int>(s / 60 % 60),
                                      static_cast<int>(s % 60), static_cast<int>(us % kUsPerSecond), tz,
                                      PyDateTimeAPI->TimeType);
}

PyObject* decode_time(const char* p, size_t n) {
  if (n != 8) return bad_data("time");
  return time_from_us(read_be<int64_t>(p), Py_None);
}

// timetz_send: time in microseconds, then the zone as seconds WEST of UTC.
PyObject* decode_timetz(const char* p, size_t n) {
  if (n != 12) return bad_data("timetz");
  int32_t west = read_be<int32_t>(p + 8);
  PyObject* delta = PyDelta_FromDSU(0, -west, 0);
  if (!delta) return nullptr;
  PyObject* tz = PyTimeZone_FromOffset(delta);
  Py_DECREF(delta);
  if (!tz) return nullptr;
  PyObject* r = time_from_us(read_be<int64_t>(p), tz);
  Py_DECREF(tz);
  return r;
}

PyObject* decode_timestamp(const char* p, size_t n) {
  if (n != 8) return bad_data("timestamp");
  int64_t us = read_be<int64_t>(p);
  if (us == kTimestampInfinity) return new_ref(g_dt_max);
  if (us == kTimestampNegInfinity) return new_ref(g_dt_min);
  return make_datetime(us, Py_None);
}

PyObject* decode_timestamptz(const char* p, size_t n) {
  if (n != 8) return bad_data("timestamptz");
  int64_t us = read_be<int64_t>(p);
  if (us == kTimestampInfinity) return new_ref(g_dtz_max);
  if (us == kTimestampNegInfinity) return new_ref(g_dtz_min);
  return make_datetime(us, PyDateTime_TimeZone_UTC);
}

// interval_send: microseconds (int64), days (int32), months (int32).
PyObject* decode_interval(const char* p, size_t n) {
  if (n != 16) return bad_data("interval");
  int64_t us = read_be<int64_t>(p);
  int64_t days = read_be<int32_t>(p + 8) + static_cast<int64_t>(read_be<int32_t>(p + 12)) * kDaysPerMonth;
  days += us / kUsPerDay;
  us %= kUsPerDay;
  return PyDelta_FromDSU(static_cast<int>(days), static_cast<int>(us / kUsPerSecond),
                         static_cast<int>(us % kUsPerSecond));
}

bool encode_date(PyObject* v, uint32_t, std::string& out) {
  if (!PyDate_Check(v)) return type_error("date", v);
  if (PyObject_RichCompareBool(v, g_date_max, Py_EQ) == 1 && !PyDateTime_Check(v)) {
    append_be<int32_t>(out, kDateInfinity);
    return true;
  }
  if (PyObject_RichCompareBool(v, g_date_min, Py_EQ) == 1 && !PyDateTime_Check(v)) {
    append_be<int32_t>(out, kDateNegInfinity);
    return true;
  }
  int64_t days = days_from_civil(PyDateTime_GET_YEAR(v), PyDateTime_GET_MONTH(v), PyDateTime_GET_DAY(v));
  append_be<int32_t>(out, static_cast<int32_t>(days - kPgEpochDaysFromUnix));
  return true;
}

bool encode_time(PyObject* v, uint32_t, std::string& out) {
  if (!PyTime_Check(v)) return type_error("time", v);
  append_be<int64_t>(out, time_us(v));
  return true;
}

bool encode_timetz(PyObject* v, uint32_t, std::string& out) {
  if (!PyTime_Check(v)) return type_error("time", v);
  int64_t off = 0;
  bool err = false;
  if (!utc_offset_seconds(v, off, err) && err) return false;
  append_be<int64_t>(out, time_us(v));
  append_be<int32_t>(out, static_cast<int32_t>(-off));
  return true;
}

// timestamp takes the wall-clock fields; timestamptz converts aware values to UTC (naive = UTC).
// datetime.max / datetime.min are sent as 'infinity' / '-infinity'.
bool encode_timestamp(PyObject* v, uint32_t o, std::string& out) {
  if (!PyDateTime_Check(v)) return type_error("datetime", v);
  int y = PyDateTime_GET_YEAR(v), mo = PyDateTime_GET_MONTH(v), d = PyDateTime_GET_DAY(v);
  int64_t tod = ((PyDateTime_DATE_GET_HOUR(v) * 60LL + PyDateTime_DATE_GET_MINUTE(v)) * 60 +
                 PyDateTime_DATE_GET_SECOND(v)) * kUsPerSecond + PyDateTime_DATE_GET_MICROSECOND(v);
  if (y == 9999 && mo == 12 && d == 31 && tod == kUsPerDay - 1) {
    append_be<int64_t>(out, kTimestampInfinity);
    return true;
  }
  if (y == 1 && mo == 1 && d == 1 && tod == 0) {
    append_be<int64_t>(out, kTimestampNegInfinity);
    return true;
  }
  int64_t us = (days_from_civil(y, mo, d) - kPgEpochDaysFromUnix) * kUsPerDay + tod;
  if (o == oid::kTimestamptz) {
    int64_t off = 0;
    bool err = false;
    if (utc_offset_seconds(v, off, err)) us -= off * kUsPerSecond;
    if (err) return false;
  }
  append_be<int64_t>(out, us);
  return true;
}

bool encode_interval(PyObject* v, uint32_t, std::string& out) {
  if (!PyDelta_Check(v)) return type_error("timedelta", v);
  int64_t us = PyDateTime_DELTA_GET_SECONDS(v) * kUsPerSecond + PyDateTime_DELTA_GET_MICROSECONDS(v);
  append_be<int64_t>(out, us);
  append_be<int32_t>(out, PyDateTime_DELTA_GET_DAYS(v));
  append_be<int32_t>(out, 0);
  return true;
}

}  // namespace fa::py::pg
