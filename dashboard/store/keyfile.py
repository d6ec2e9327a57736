"""A secret kept in a file only its owner can read, made on first use: the web's cookie-signing key and the
audit chain's key. Several processes may start at once (gunicorn's workers, ingest): each writes its own
candidate aside and links it into place atomically; the first link wins and everyone reads that one."""
from __future__ import annotations

import os
import secrets
from pathlib import Path


def read_or_make(path: Path) -> bytes:
    """The key in `path`, made (64 hex characters, mode 0600) if there is none yet."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        aside = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(aside, path)
        except FileExistsError:
            pass  # another process won: use its key
        finally:
            os.unlink(aside)
    return path.read_text().strip().encode()
