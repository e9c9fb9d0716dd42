-- Every request asks the server to close: wrk reconnects, so each request is a new TCP
-- connection and (over https) a full TLS handshake.
wrk.headers["Connection"] = "close"
