-- wrk script: HTTP/1.1 pipelining, 16 GET requests of the URL's path per write.
-- wrk counts every response, so Requests/sec is responses per second.
-- Usage: wrk -t1 -c64 -d10s -s pipeline16.lua http://127.0.0.1:PORT/

local depth = 16  -- requests in flight per connection
local batch

function init(args)
  batch = string.rep(wrk.format("GET", wrk.path), depth)
end

function request()
  return batch
end
