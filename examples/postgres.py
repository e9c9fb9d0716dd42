"""The seed README's PostgreSQL example, verbatim. DATABASE_URL overrides the DSN."""
# ruff: noqa  -- the code below is kept exactly as the README shows it

import os

from fasterapi import App, PgPool, Depends
from fasterapi.pg.compat import get_pg_factory

pool = PgPool(os.environ.get("DATABASE_URL", "postgres://localhost/mydb"), min_size=2, max_size=20)
get_pg = get_pg_factory(pool)

app = App()

@app.get("/users/{user_id}")
def get_user(req, res, pg=Depends(get_pg)):
    user_id = req.path_params["user_id"]
    result = pg.exec("SELECT * FROM users WHERE id=$1", user_id)
    return result.one()

@app.post("/users")
def create_user(req, res, pg=Depends(get_pg)):
    data = req.json()
    user_id = pg.exec(
        "INSERT INTO users(name, email) VALUES($1, $2) RETURNING id",
        data["name"], data["email"]
    ).scalar()
    return {"id": user_id}

if __name__ == "__main__":
    app.run()
