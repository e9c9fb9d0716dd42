"""HTTP endpoint benchmark app: one PK lookup per request through FasterAPI's own driver."""

import os

from fasterapi import App, PgPool

DSN = os.environ.get("FASTERAPI_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
CONNS = int(os.environ.get("BENCH_PG_CONNS", "8"))
pool = PgPool(DSN, min_size=CONNS, max_size=CONNS)
app = App()


@app.get("/user/{user_id}")
async def get_user(req, res):
    row = await pool.fetchrow(
        "SELECT id, name, email FROM bench_users WHERE id = $1", int(req.path_params["user_id"])
    )
    return dict(row.items())


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "8001")))
