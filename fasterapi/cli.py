"""`fasterapi run module:app` (also `python -m fasterapi`), with uvicorn's flag names."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fasterapi.app import App

LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fasterapi", description="Run a FasterAPI application.")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="serve an app: fasterapi run module:app")
    run.add_argument("app", help="import string 'module:attribute' (e.g. main:app)")
    run.add_argument("--host", default=None, help="bind address (default: the App's, 127.0.0.1)")
    run.add_argument("--port", type=int, default=None, help="bind port (default: the App's, 8000)")
    run.add_argument("--workers", type=int, default=None, help="worker processes sharing the port")
    run.add_argument("--log-level", choices=LOG_LEVELS, default="info")
    run.add_argument(
        "--loop",
        choices=("auto", "epoll", "uring"),
        default=None,
        help="event loop backend: epoll, uring (io_uring; epoll when the kernel refuses it) or "
        "auto (default: FASTERAPI_LOOP, else epoll)",
    )
    run.add_argument("--reload", action="store_true", help="restart when .py files change")
    run.add_argument("--reload-dir", action="append", default=None, help="directory to watch")
    run.add_argument("--access-log", dest="access_log", action="store_true", default=None)
    run.add_argument("--no-access-log", dest="access_log", action="store_false")
    run.add_argument("--timeout-keep-alive", type=float, default=None, metavar="SECONDS")
    run.add_argument("--timeout-graceful-shutdown", type=float, default=None, metavar="SECONDS")
    run.add_argument("--ws-max-size", type=int, default=None, metavar="BYTES")
    run.add_argument("--ws-ping-interval", type=float, default=None, metavar="SECONDS")
    run.add_argument("--ws-ping-timeout", type=float, default=None, metavar="SECONDS")
    run.add_argument(
        "--ws-per-message-deflate", type=lambda v: v.lower() in ("1", "true", "yes"), default=None
    )
    run.add_argument(
        "--ws-deflate-level", type=int, default=None, metavar="0-9",
        help="zlib level of permessage-deflate (default 6; 1 fastest, 9 smallest)",
    )  # fmt: skip
    run.add_argument("--app-dir", default=".", help="directory put on sys.path first (default: .)")
    run.add_argument("--ssl-keyfile", default=None, help="TLS private key (PEM)")
    run.add_argument("--ssl-certfile", default=None, help="TLS certificate chain (PEM): TLS on")
    run.add_argument("--ssl-keyfile-password", default=None, help="password of the key")
    run.add_argument("--ssl-ca-certs", default=None, help="CA bundle for client certificates")
    run.add_argument(
        "--ssl-cert-reqs",
        type=int,
        default=None,
        choices=(0, 1, 2),
        help="client certificates: 0 none, 1 optional, 2 required (ssl.CERT_*)",
    )
    return p


def load_app(spec: str, app_dir: str = ".") -> App:
    """Import 'module:attr' (attr may be dotted). Raises SystemExit with a hint on mistakes."""
    from fasterapi.app import App

    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise SystemExit(f"fasterapi: app must look like 'module:app', got {spec!r}")
    path = os.path.abspath(app_dir)
    if path not in sys.path:
        sys.path.insert(0, path)
    try:
        obj: object = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name != module_name.split(".")[0] and e.name != module_name:
            raise
        raise SystemExit(f"fasterapi: could not import module {module_name!r} (from {path})") from e
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise SystemExit(
                f"fasterapi: module {module_name!r} has no attribute {attr!r}"
            ) from None
    if not isinstance(obj, App):
        from fasterapi.asgi import is_asgi_app, serve_app

        if is_asgi_app(obj):  # FastAPI, Starlette, ...: served through the ASGI adapter
            return serve_app(obj)
        raise SystemExit(
            f"fasterapi: {spec} is a {type(obj).__name__}, not a fasterapi.App nor an ASGI app"
        )
    return obj


def configure_logging(level: str) -> None:
    lvl = logging.DEBUG if level == "trace" else getattr(logging, level.upper())
    logging.basicConfig(level=lvl, format="%(levelname)s:     %(message)s")
    logging.getLogger("fasterapi").setLevel(lvl)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `fasterapi` command; returns the exit status."""
    args = parser().parse_args(argv)
    configure_logging(args.log_level)
    if args.reload:
        from fasterapi.reload import run_with_reload

        child = [a for a in (argv if argv is not None else sys.argv[1:]) if a != "--reload"]
        return run_with_reload(
            [sys.executable, "-m", "fasterapi", *child], args.reload_dir or [args.app_dir]
        )
    app = load_app(args.app, args.app_dir)
    options: dict[str, object] = {}
    if args.access_log is not None:
        options["access_log"] = args.access_log
    if args.timeout_keep_alive is not None:
        options["timeout_keep_alive"] = args.timeout_keep_alive
    if args.loop is not None:
        options["loop"] = args.loop
    for name in ("ws_max_size", "ws_ping_interval", "ws_ping_timeout", "ws_per_message_deflate",
                 "ws_deflate_level"):  # fmt: skip
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    if args.timeout_graceful_shutdown is not None:
        options["timeout_graceful_shutdown"] = args.timeout_graceful_shutdown
    for name in ("ssl_keyfile", "ssl_certfile", "ssl_keyfile_password", "ssl_ca_certs"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    if args.ssl_cert_reqs is not None:
        options["ssl_cert_reqs"] = args.ssl_cert_reqs
    if args.workers is not None and args.workers < 1:
        raise SystemExit("fasterapi: --workers must be at least 1")
    app.run(args.host, args.port, args.workers, log_level=args.log_level, **options)
    return 0
