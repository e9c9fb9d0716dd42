"""One native EventLoop per asyncio loop, shared by the HTTP Server and PostgreSQL connections.

The native Loop (bindings/core/py_loop.h) is registered with its asyncio loop once, as a reader
(its epoll or io_uring fd is readable while a socket on it has work): one poll() per wake-up
serves the engine's HTTP connections and the PostgreSQL channels alike. It stays registered until
the asyncio loop closes, so connections opened before a Server on that asyncio loop (lifespan
startup) and closed after it (lifespan shutdown, a pool outliving the server) keep being served.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fasterapi import _native

# Per asyncio loop, its native Loops, the current one last: the one PostgreSQL connections
# opened now join. More than one only when Servers asked for different backends.
_loops: dict[asyncio.AbstractEventLoop, list[Any]] = {}


def native_loop(loop: asyncio.AbstractEventLoop, backend: str | None = None) -> Any:
    """The native Loop of this asyncio loop, created and registered with it on first use.

    backend None: the current one (any backend; the process default when there is none yet).
    backend a name ('epoll', 'uring', 'auto', '' for FASTERAPI_LOOP, else epoll): the one created
    for that backend, which becomes the current one (a Server's: PostgreSQL connections opened
    from then on share its loop). ValueError for an unknown name.
    """
    loops = _loops.get(loop)
    if loops is None:
        for old in list(_loops):  # a snapshot: other threads' asyncio loops use this dict too
            if old.is_closed():
                _loops.pop(old, None)
        loops = _loops[loop] = []
    if backend is None:
        if loops:
            return loops[-1]
        backend = ""
    want = _native.loop_backend_name(backend)
    for nl in loops:
        if nl.requested == want:
            if nl is not loops[-1]:
                loops.remove(nl)
                loops.append(nl)
            return nl
    nl = _native.Loop(want)
    loop.add_reader(nl.fileno(), nl.poll)
    loops.append(nl)
    return nl
