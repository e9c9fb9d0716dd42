"""Data shared by the soak app and the soak clients: one deterministic pseudo-random buffer.

Downloads, streamed bodies and uploads are slices of PATTERN, so a client can check every
byte it receives without the server sending a checksum (a dropped, duplicated or shifted
segment never matches a pseudo-random buffer)."""

from __future__ import annotations

import random

SEED = 0x50A4
MAX_BODY = 8 * 1024 * 1024  # largest download / upload / streamed body (8 MiB)
PATTERN = random.Random(SEED).randbytes(MAX_BODY + 1024 * 1024)  # 9 MiB: offsets for uploads
