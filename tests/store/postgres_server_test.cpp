// The throwaway PostgreSQL cluster the PostgreSQL backend's tests run against.
#include "support/postgres_server.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <filesystem>
#include <memory>
#include <string>

namespace bluetrace::test {
namespace {

TEST(PostgresServerTest, StartsServesADatabaseAndLeavesNothingBehind) {
  std::string dir;
  {
    PostgresServer server;
    ASSERT_TRUE(server.ok()) << server.error();
    dir = server.dir();
    EXPECT_TRUE(std::filesystem::exists(dir + "/data/PG_VERSION"));
    const std::string db = server.CreateFreshDatabase();
    ASSERT_FALSE(db.empty());

    std::unique_ptr<PGconn, decltype(&PQfinish)> conn(
        PQconnectdb(server.ConnectionString(db).c_str()), &PQfinish);
    ASSERT_EQ(PQstatus(conn.get()), CONNECTION_OK) << PQerrorMessage(conn.get());
    std::unique_ptr<PGresult, decltype(&PQclear)> res(PQexec(conn.get(), "SELECT 1"), &PQclear);
    ASSERT_EQ(PQresultStatus(res.get()), PGRES_TUPLES_OK) << PQerrorMessage(conn.get());
    EXPECT_STREQ(PQgetvalue(res.get(), 0, 0), "1");
    // Only the Unix socket: the server listens on no TCP address.
    std::unique_ptr<PGresult, decltype(&PQclear)> listen(
        PQexec(conn.get(), "SHOW listen_addresses"), &PQclear);
    EXPECT_STREQ(PQgetvalue(listen.get(), 0, 0), "");
    conn.reset();
  }
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(PostgresServerTest, EachFreshDatabaseIsEmptyAndDistinct) {
  PostgresServer& server = SharedPostgresServerForTest();
  ASSERT_TRUE(server.ok()) << server.error();
  const std::string a = server.CreateFreshDatabase();
  const std::string b = server.CreateFreshDatabase();
  ASSERT_FALSE(a.empty());
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace bluetrace::test
