"""nginx as the `return 200` ceiling: a config rendered into a temp dir, run in the foreground."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent.parent / "nginx.conf.template"


def nginx_binary() -> str | None:
    """Returns the nginx executable, or None if it is not installed."""
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/nginx/sbin/nginx") if os.access(p, os.X_OK)),
        None)


def render_config(prefix: Path, port: int) -> Path:
    """Writes nginx.conf for 127.0.0.1:port into prefix and returns its path."""
    # As root nginx would drop its worker to `nobody`; keep it root so it can use the temp dir.
    user = "user root;" if os.geteuid() == 0 else ""
    conf = prefix / "nginx.conf"
    conf.write_text(TEMPLATE.read_text().format(user=user, prefix=prefix, port=port))
    return conf


def nginx_argv(binary: str, prefix: Path, conf: Path) -> list[str]:
    """Returns the argv that runs nginx with conf, logging only to prefix."""
    # -e sets the error log before the config is read (nginx >= 1.19.5).
    return [binary, "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(conf)]
