// The per-request hot path: fa::py::json_encode of a handler's return value into a std::string
// that already has capacity, with orjson.dumps called from C as the reference. Embeds Python.
//
// Build and run (from the repository root; not part of the CMake globs, it needs libpython):
//   g++ -O2 -std=c++20 -Isrc -Ibindings $(python3-config --includes) \
//       benchmarks/json/encode_hot_path_bench.cpp bindings/json_encode.cpp src/json/*.cpp \
//       $(python3-config --ldflags --embed) -lbenchmark -lpthread -o /tmp/encode_hot_path_bench
//   /tmp/encode_hot_path_bench
#include <Python.h>
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "json_encode.h"

namespace {

PyObject* g_small = nullptr;       // {"message": "Hello, World!"}
PyObject* g_api = nullptr;         // a ~1 KB nested API object
PyObject* g_orjson_dumps = nullptr;

PyObject* eval(const char* expr) {
  PyObject* globals = PyDict_New();
  PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins());
  PyObject* v = PyRun_String(expr, Py_eval_input, globals, globals);
  Py_DECREF(globals);
  if (!v) {
    PyErr_Print();
    std::exit(1);
  }
  return v;
}

constexpr const char* kApiObject =
    "{'id': 123456, 'uuid': '0f8fad5b-d9cb-469f-a165-70867728950e', 'name': 'Zo\\u00eb',"
    " 'active': True, 'balance': 1234.56, 'score': 0.875, 'tags': ['python', 'c++', 'json'],"
    " 'created_at': '2024-05-06T07:08:09Z',"
    " 'address': {'street': '12 Rue de la Paix', 'city': 'Paris', 'geo': [48.8686, 2.3314]},"
    " 'orders': [{'order_id': 1000 + i, 'total': 19.99 * (i + 1), 'shipped': i % 2 == 0,"
    "   'items': [{'sku': f'SKU-{i}-{j}', 'qty': j + 1, 'price': 4.5} for j in range(2)],"
    "   'note': None} for i in range(3)]}";

void encode(benchmark::State& state, PyObject* obj) {
  std::string out;
  out.reserve(16 * 1024);  // the server's response buffer
  for (auto _ : state) {
    out.clear();
    if (!fa::py::json_encode(obj, out)) state.SkipWithError("json_encode failed");
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["bytes"] = static_cast<double>(out.size());
}

void orjson(benchmark::State& state, PyObject* obj) {
  if (!g_orjson_dumps) {
    state.SkipWithError("orjson is not installed");
    return;
  }
  for (auto _ : state) {
    PyObject* b = PyObject_CallOneArg(g_orjson_dumps, obj);
    benchmark::DoNotOptimize(b);
    Py_XDECREF(b);
  }
}

void BM_JsonEncodeSmallDict(benchmark::State& s) { encode(s, g_small); }
void BM_JsonEncodeApiObject(benchmark::State& s) { encode(s, g_api); }
void BM_OrjsonDumpsSmallDict(benchmark::State& s) { orjson(s, g_small); }
void BM_OrjsonDumpsApiObject(benchmark::State& s) { orjson(s, g_api); }
BENCHMARK(BM_JsonEncodeSmallDict);
BENCHMARK(BM_OrjsonDumpsSmallDict);
BENCHMARK(BM_JsonEncodeApiObject);
BENCHMARK(BM_OrjsonDumpsApiObject);

}  // namespace

int main(int argc, char** argv) {
  Py_Initialize();
  g_small = eval("{'message': 'Hello, World!'}");
  g_api = eval(kApiObject);
  if (PyObject* mod = PyImport_ImportModule("orjson")) {
    g_orjson_dumps = PyObject_GetAttrString(mod, "dumps");
    Py_DECREF(mod);
  } else {
    PyErr_Clear();
  }
  // Check the output once before timing it.
  std::string check;
  if (!fa::py::json_encode(g_small, check) || check != R"({"message":"Hello, World!"})") {
    std::fprintf(stderr, "unexpected output: %s\n", check.c_str());
    return 1;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
