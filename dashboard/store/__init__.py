"""The store: schema and queries. SQLite in WAL mode by default."""
from .store import DEFAULT_SITE, Batch, SessionRow, Store, StoreError, sqlite_url

__all__ = ["DEFAULT_SITE", "Batch", "SessionRow", "Store", "StoreError", "sqlite_url"]
