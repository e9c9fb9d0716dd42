// Bearer header parsing, WWW-Authenticate challenges and Protected Resource Metadata.
#include <gtest/gtest.h>

#include "mcp/auth/bearer.h"
#include "mcp/auth/resource_metadata.h"

namespace fa::mcp::auth {
namespace {

constexpr const char* kMeta = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp";

TEST(BearerToken, ParsesTheHeader) {
  EXPECT_EQ(bearer_token("Bearer abc.def-_~+/=").value(), "abc.def-_~+/=");
  EXPECT_EQ(bearer_token("BEARER  abc ").value(), "abc");
  EXPECT_EQ(bearer_token("").failure().kind, AuthError::kMissingToken);
  EXPECT_EQ(bearer_token("Basic abc").failure().kind, AuthError::kMissingToken);
  EXPECT_EQ(bearer_token("Bearerabc").failure().kind, AuthError::kMissingToken);
  EXPECT_EQ(bearer_token("Bearer ").failure().kind, AuthError::kInvalidRequest);
  EXPECT_EQ(bearer_token("Bearer a=b").failure().kind, AuthError::kInvalidRequest);
  EXPECT_EQ(bearer_token("Bearer a,b").failure().kind, AuthError::kInvalidRequest);
}

TEST(WwwAuthenticate, NoCredentials) {
  // RFC 6750 §3.1: no error code when the request carried no token.
  AuthFailure f{AuthError::kMissingToken, "no Authorization header"};
  EXPECT_EQ(www_authenticate(&f, kMeta, "mcp:tools"),
            std::string("Bearer resource_metadata=\"") + kMeta + "\", scope=\"mcp:tools\"");
  EXPECT_EQ(www_authenticate(nullptr, kMeta),
            std::string("Bearer resource_metadata=\"") + kMeta + "\"");
}

TEST(WwwAuthenticate, InvalidToken) {
  AuthFailure f{AuthError::kExpired, "the token has expired"};
  EXPECT_EQ(www_authenticate(&f, kMeta),
            std::string("Bearer resource_metadata=\"") + kMeta +
                "\", error=\"invalid_token\", error_description=\"the token has expired\"");
  EXPECT_EQ(http_status(f.kind), 401);
  EXPECT_EQ(error_name(f.kind), "expired");
}

TEST(WwwAuthenticate, InsufficientScopeAndEscaping) {
  AuthFailure f{AuthError::kInsufficientScope, "needs \"write\"\r\n\\"};
  EXPECT_EQ(www_authenticate(&f, kMeta, "files:read files:write"),
            std::string("Bearer resource_metadata=\"") + kMeta +
                "\", error=\"insufficient_scope\", error_description=\"needs ?write????\", "
                "scope=\"files:read files:write\"");
  EXPECT_EQ(http_status(f.kind), 403);
}

TEST(ResourceMetadata, Renders) {
  ResourceMetadata m;
  m.resource = "https://mcp.example.com/mcp";
  m.authorization_servers = {"https://auth.example.com"};
  m.scopes_supported = {"mcp:tools", "mcp:resources"};
  EXPECT_EQ(render_resource_metadata(m),
            "{\"resource\":\"https://mcp.example.com/mcp\","
            "\"authorization_servers\":[\"https://auth.example.com\"],"
            "\"scopes_supported\":[\"mcp:tools\",\"mcp:resources\"],"
            "\"bearer_methods_supported\":[\"header\"]}");
  m.resource_name = "Example \"MCP\"";
  EXPECT_NE(render_resource_metadata(m).find(",\"resource_name\":\"Example \\\"MCP\\\"\"}"),
            std::string::npos);
}

TEST(ResourceMetadata, RefusesBadResources) {
  ResourceMetadata m;
  m.authorization_servers = {"https://auth.example.com"};
  for (const char* bad :
       {"mcp.example.com", "https://mcp.example.com#x", "ftp://h/x", "https://", "https:///path"}) {
    m.resource = bad;
    EXPECT_THROW(render_resource_metadata(m), std::invalid_argument) << bad;
  }
  m.resource = "https://mcp.example.com";
  m.authorization_servers.clear();
  EXPECT_THROW(render_resource_metadata(m), std::invalid_argument);
}

TEST(ResourceMetadata, WellKnownLocation) {
  // RFC 9728 §3.1: the well-known segment goes between the host and the path.
  EXPECT_EQ(resource_metadata_url("https://mcp.example.com/mcp"), kMeta);
  EXPECT_EQ(resource_metadata_url("https://mcp.example.com"),
            "https://mcp.example.com/.well-known/oauth-protected-resource");
  EXPECT_EQ(resource_metadata_url("https://mcp.example.com/"),
            "https://mcp.example.com/.well-known/oauth-protected-resource");
  EXPECT_EQ(resource_metadata_url("http://127.0.0.1:8000/a/mcp"),
            "http://127.0.0.1:8000/.well-known/oauth-protected-resource/a/mcp");
  EXPECT_EQ(resource_metadata_path("https://mcp.example.com/mcp"),
            "/.well-known/oauth-protected-resource/mcp");
}

}  // namespace
}  // namespace fa::mcp::auth
