"""The store: schema and queries. SQLite in WAL mode by default."""
from .store import Batch, SessionRow, Store, StoreError, sqlite_url

__all__ = ["Batch", "SessionRow", "Store", "StoreError", "sqlite_url"]
