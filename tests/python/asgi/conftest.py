"""ASGI mode tests: the apps under apps/ are importable as top-level modules."""

from __future__ import annotations

import sys
from pathlib import Path

APPS = Path(__file__).resolve().parent / "apps"
if str(APPS) not in sys.path:
    sys.path.insert(0, str(APPS))
