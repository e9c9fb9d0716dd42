// Password authentication end to end (§55.3): MD5, SCRAM-SHA-256 and cleartext against a
// throwaway cluster (initdb + pg_ctl, as tests/python/pg/cluster.py does) whose pg_hba.conf
// demands each method for its own role; wrong passwords are refused with SQLSTATE 28P01.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "pg/pg_connection.h"
#include "pg_test_util.h"

namespace fa::pg {
namespace {

using testing::wait;

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::string pg_bindir() {
  if (std::system("command -v initdb >/dev/null 2>&1") == 0) return "";
  for (int v = 20; v >= 11; --v) {
    std::string d = "/usr/lib/postgresql/" + std::to_string(v) + "/bin/";
    if (std::filesystem::exists(d + "initdb")) return d;
  }
  return "-";
}

// initdb runs as the postgres OS user when we are root (initdb refuses root).
class Cluster {
 public:
  bool start(std::string& err) {
    bin_ = pg_bindir();
    if (bin_ == "-") {
      err = "initdb not found (install postgresql)";
      return false;
    }
    char tmpl[] = "/tmp/fa-cpg-XXXXXX";
    if (!::mkdtemp(tmpl)) {
      err = "mkdtemp failed";
      return false;
    }
    dir_ = tmpl;
    as_ = ::geteuid() == 0 ? "runuser -u postgres -- " : "";
    if (!as_.empty() && std::system(("chown postgres " + dir_).c_str()) != 0) {
      err = "chown postgres failed";
      return false;
    }
    port_ = free_port();
    if (!sh(bin_ + "initdb -D " + dir_ + "/data -U postgres -A trust --no-sync")) {
      err = "initdb failed";
      return false;
    }
    std::ofstream(dir_ + "/data/postgresql.conf", std::ios::app)
        << "port = " << port_ << "\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '"
        << dir_ << "'\nfsync = off\n";
    std::ofstream(dir_ + "/data/pg_hba.conf", std::ios::trunc)
        << "local all all trust\n"
           "host all fa_md5 127.0.0.1/32 md5\n"
           "host all fa_scram 127.0.0.1/32 scram-sha-256\n"
           "host all fa_clear 127.0.0.1/32 password\n"
           "host all all 127.0.0.1/32 reject\n";
    if (!sh(bin_ + "pg_ctl -D " + dir_ + "/data -l " + dir_ + "/log -w -t 60 start")) {
      err = "pg_ctl start failed (see " + dir_ + "/log)";
      return false;
    }
    started_ = true;
    return true;
  }
  ~Cluster() {
    if (started_) sh(bin_ + "pg_ctl -D " + dir_ + "/data -m immediate -w stop");
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  Config config(std::string user, std::string password) const {
    Config c;
    c.host = "127.0.0.1";
    c.port = static_cast<uint16_t>(port_);
    c.user = std::move(user);
    c.password = std::move(password);
    c.database = "postgres";
    c.connect_timeout = std::chrono::seconds(10);
    return c;
  }
  Config admin() const {
    Config c = config("postgres", "");
    c.host = dir_;  // trust over the Unix socket
    return c;
  }

 private:
  bool sh(const std::string& cmd) const {
    return std::system((as_ + cmd + " >/dev/null 2>&1").c_str()) == 0;
  }
  std::string bin_, dir_, as_;
  int port_ = 0;
  bool started_ = false;
};

TEST(PgAuth, Md5ScramAndCleartextPasswords) {
  Cluster cluster;
  std::string err;
  if (!cluster.start(err)) {
    if (testing::pg_required())
      FAIL() << "FASTERAPI_REQUIRE_PG=1 and no throwaway cluster: " << err;
    GTEST_SKIP() << err;
  }
  EventLoop loop;
  auto admin = wait(loop, Connection::connect(loop, cluster.admin()));
  for (const char* sql :
       {"SET password_encryption = 'md5'", "CREATE ROLE fa_md5 LOGIN PASSWORD 'md5 pw'",
        "SET password_encryption = 'scram-sha-256'",
        "CREATE ROLE fa_scram LOGIN PASSWORD 'scr4m:pw'",
        "CREATE ROLE fa_clear LOGIN PASSWORD 'clear'"})
    wait(loop, admin->query(sql));
  struct Case {
    const char* user;
    const char* password;
    const char* method;  // what pg_hba demands (and how the password is stored)
  };
  for (Case c : {Case{"fa_md5", "md5 pw", "md5"}, Case{"fa_scram", "scr4m:pw", "scram-sha-256"},
                 Case{"fa_clear", "clear", "password"}}) {
    SCOPED_TRACE(c.method);
    auto conn = wait(loop, Connection::connect(loop, cluster.config(c.user, c.password)));
    Result r = wait(loop, conn->query("SELECT current_user::text"));
    EXPECT_EQ(r[0][0].as<std::string_view>(), c.user);
    try {
      wait(loop, Connection::connect(loop, cluster.config(c.user, "wrong")));
      ADD_FAILURE() << "a wrong password was accepted";
    } catch (const ServerError& e) {
      EXPECT_EQ(e.sqlstate(), "28P01");  // invalid_password
    }
  }
  // A role pg_hba rejects outright: the server's error, not a hang.
  EXPECT_THROW(wait(loop, Connection::connect(loop, cluster.config("postgres", "x"))), ServerError);
}

}  // namespace
}  // namespace fa::pg
