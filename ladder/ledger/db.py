"""One SQLAlchemy engine per process, created on first use (after fork).

Celery's prefork workers call :func:`dispose_engine` in ``worker_process_init``
so that a child never shares its parent's connections.
"""

from __future__ import annotations

from sqlalchemy import Engine, create_engine

from ladder.settings import get_settings

_engine: Engine | None = None


def get_engine() -> Engine:
    global _engine
    if _engine is None:
        url = get_settings().require_database_url()
        _engine = create_engine(url, pool_size=5, max_overflow=5, pool_pre_ping=True, future=True)
    return _engine


def dispose_engine() -> None:
    global _engine
    if _engine is not None:
        _engine.dispose(close=False)
    _engine = None
