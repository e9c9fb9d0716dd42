"""HTTP endpoint benchmark app: the seed's sync form (Depends(get_pg), pg.exec(...).one())."""

import os

from fasterapi import App, Depends, PgPool
from fasterapi.pg.compat import get_pg_factory

DSN = os.environ.get("FASTERAPI_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
pool = PgPool(DSN, min_size=1, max_size=int(os.environ.get("BENCH_PG_CONNS", "8")))
get_pg = get_pg_factory(pool)
app = App()


@app.get("/user/{user_id}")
def get_user(req, res, pg=Depends(get_pg)):
    return pg.exec(
        "SELECT id, name, email FROM bench_users WHERE id = $1", req.path_params["user_id"]
    ).one()


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "8003")))
