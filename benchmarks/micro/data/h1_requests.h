// Request heads for the HTTP/1.1 parser benchmark (h1_parser_bench.cpp). Header names, order
// and values follow what Chrome 131 on Linux sends; the POST is what httpx sends with a JSON body.
#pragma once

#include <string_view>

namespace fa::bench {

// A top-level navigation (address bar), 708 bytes.
inline constexpr std::string_view kChromeNavigate =
    "GET /api/items?page=2 HTTP/1.1\r\n"
    "Host: localhost:8000\r\n"
    "Connection: keep-alive\r\n"
    "sec-ch-ua: \"Google Chrome\";v=\"131\", \"Chromium\";v=\"131\", \"Not_A Brand\";v=\"24\"\r\n"
    "sec-ch-ua-mobile: ?0\r\n"
    "sec-ch-ua-platform: \"Linux\"\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36\r\n"
    "Accept: "
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,"
    "*/*;q=0.8,application/signed-exchange;v=b3;q=0.7\r\n"
    "Sec-Fetch-Site: none\r\n"
    "Sec-Fetch-Mode: navigate\r\n"
    "Sec-Fetch-User: ?1\r\n"
    "Sec-Fetch-Dest: document\r\n"
    "Accept-Encoding: gzip, deflate, br, zstd\r\n"
    "Accept-Language: en-US,en;q=0.9\r\n"
    "Cookie: session=3f9a1c2e7b; theme=dark\r\n"
    "\r\n";

// A fetch() from page script to the API (what an API server mostly sees), 515 bytes.
inline constexpr std::string_view kChromeFetch =
    "GET /api/items/42 HTTP/1.1\r\n"
    "Host: localhost:8000\r\n"
    "Connection: keep-alive\r\n"
    "sec-ch-ua-platform: \"Linux\"\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36\r\n"
    "sec-ch-ua: \"Google Chrome\";v=\"131\", \"Chromium\";v=\"131\", \"Not_A Brand\";v=\"24\"\r\n"
    "sec-ch-ua-mobile: ?0\r\n"
    "Accept: */*\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "Sec-Fetch-Mode: cors\r\n"
    "Sec-Fetch-Dest: empty\r\n"
    "Referer: http://localhost:8000/\r\n"
    "Accept-Encoding: gzip, deflate, br, zstd\r\n"
    "Accept-Language: en-US,en;q=0.9\r\n"
    "\r\n";

// A small JSON POST as httpx sends it (head 204 bytes); the head is parsed, the body (47 bytes)
// follows in the buffer.
inline constexpr std::string_view kJsonPost =
    "POST /api/items HTTP/1.1\r\n"
    "Host: localhost:8000\r\n"
    "Accept: */*\r\n"
    "Accept-Encoding: gzip, deflate\r\n"
    "Connection: keep-alive\r\n"
    "User-Agent: python-httpx/0.27.0\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 47\r\n"
    "\r\n"
    "{\"name\":\"widget\",\"price\":9.99,\"tags\":[\"a\",\"b\"]}";

}  // namespace fa::bench
