-- wrk script: POST the URL's path and query with one fixed JSON body (the benchmark's Item).
-- bench.py reads BODY from this file to check every server's answer before timing.
-- Usage: wrk -t1 -c64 -d5s -s post_item.lua "http://127.0.0.1:PORT/items?verbose=true"

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"name":"hammer","price":12.5,"quantity":3,"in_stock":true,"tags":["tools","steel"]}'
