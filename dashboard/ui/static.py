"""How the page's own files reach the browser (placeholder: filled in with the asset work)."""
from __future__ import annotations

from typing import Any


def install(app: Any) -> None:
    return None
