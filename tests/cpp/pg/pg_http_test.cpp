// C++ HTTP handlers querying PostgreSQL through Pool on the server's own loop (TFB's db shape):
// the handler detaches its response and answers from the query's continuation.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "http/server.h"
#include "http/test_client.h"
#include "pg/pg_pool.h"
#include "pg_test_util.h"

namespace fa::pg {
namespace {

using testing::test_config;
using testing::wait;

TEST(PgHttp, HandlerAnswersFromAPooledQuery) {
  EventLoop loop;
  FA_PG_CONNECT(loop, admin);
  const std::string table = "fa_cpp_world_" + std::to_string(::getpid());
  wait(loop, admin->query("DROP TABLE IF EXISTS " + table));
  wait(loop, admin->query("CREATE TABLE " + table +
                          " (id int4 PRIMARY KEY, randomnumber int4 NOT NULL)"));
  wait(loop, admin->query("INSERT INTO " + table +
                          " SELECT g, (g * 7919) % 10000 + 1 FROM generate_series(1, 10000) g"));

  Pool pool(loop, test_config(), {.min_size = 1, .max_size = 2});
  http::ServerConfig cfg;
  cfg.host = "127.0.0.1";
  cfg.port = 0;
  http::Server server(loop, cfg);
  const std::string sql = "SELECT id, randomnumber FROM " + table + " WHERE id = $1";
  server.route("GET", "/db/{id:int}", [&](http::Request& req, http::Response& res) {
    int id = std::stoi(std::string(req.param("id")));
    (void)pool.query(sql, {id}).then_wrapped([h = res.detach()](future<Result> f) {
      if (f.failed()) {
        h.send({500, "text/plain", {}}, "db error");
        return;
      }
      Result r = f.get();
      if (r.empty()) {
        h.send({404, "application/json", {}}, "null");
        return;
      }
      std::string body = R"({"id":)" + std::to_string(r[0]["id"].as<int>()) +
                         R"(,"randomNumber":)" + std::to_string(r[0]["randomnumber"].as<int>()) +
                         "}";
      h.send({200, "application/json", {}}, body);
    });
  });
  uint16_t port = server.listen();

  // A blocking client on its own thread; the loop (server + pool) runs on this one.
  std::vector<fa::testing::HttpResponse> got;
  std::atomic<bool> done{false};
  std::thread client([&] {
    int fd = fa::testing::connect_to(port);
    std::string pending;
    // Pipelined HTTP requests: their queries are issued in one loop turn.
    std::string reqs;
    for (int id : {1, 42, 10000, 10001})
      reqs += "GET /db/" + std::to_string(id) + " HTTP/1.1\r\nHost: x\r\n\r\n";
    fa::testing::send_all(fd, reqs);
    for (int i = 0; i < 4; ++i) got.push_back(fa::testing::read_response(fd, pending));
    ::close(fd);
    done = true;
  });
  auto deadline = Clock::now() + std::chrono::seconds(20);
  while (!done && Clock::now() < deadline) loop.run_once(10);
  client.join();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].status, 200);
  EXPECT_EQ(got[0].body, R"({"id":1,"randomNumber":7920})");
  EXPECT_EQ(got[1].body, R"({"id":42,"randomNumber":2599})");
  EXPECT_EQ(got[2].body, R"({"id":10000,"randomNumber":1})");
  EXPECT_EQ(got[3].status, 404);
  EXPECT_EQ(got[0].header("content-type"), "application/json");

  server.close();
  pool.close();
  wait(loop, admin->query("DROP TABLE " + table));
}

}  // namespace
}  // namespace fa::pg
