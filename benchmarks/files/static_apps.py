"""The apps bench_static.py serves: FasterAPI's StaticFiles and Starlette's StaticFiles (on
uvicorn), both over the directory in STATIC_DIR, mounted at /static."""

from __future__ import annotations

import os

DIRECTORY = os.environ.get("STATIC_DIR", ".")


def fasterapi_app():  # type: ignore[no-untyped-def]
    from fasterapi import App
    from fasterapi.staticfiles import StaticFiles

    app = App()
    app.mount("/static", StaticFiles(directory=DIRECTORY))
    return app


def starlette_app():  # type: ignore[no-untyped-def]
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    return Starlette(routes=[Mount("/static", app=StaticFiles(directory=DIRECTORY))])


if __name__ == "__main__":
    fasterapi_app().run(host="127.0.0.1", port=int(os.environ["PORT"]), log_level="warning")
