"""Stores: where leads, attempts, results, sales and post outcomes are kept (memory or SQLite)."""

from engine.store.base import Store
from engine.store.memory import MemoryStore
from engine.store.sqlite import DEFAULT_PATH, SqliteStore

__all__ = ["DEFAULT_PATH", "MemoryStore", "SqliteStore", "Store"]
