"""The one settings object: connection URLs and paths from the environment.

Everything a process needs to find its services comes from ``LADDER_*``
variables (or a ``.env`` file), read once and validated here. Tier, routing
and tenant configuration lives in the file named by ``LADDER_CONFIG``
(see :mod:`ladder.config`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

BUNDLED_CONFIG = Path(__file__).resolve().parent.parent / "config" / "ladder.yaml"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LADDER_", env_file=".env", extra="ignore")

    redis_url: str | None = Field(default=None, description="Celery broker and shared state")
    database_url: str | None = Field(default=None, description="the Postgres ledger (SQLAlchemy URL)")
    config: Path = Field(default=BUNDLED_CONFIG, description="tier / routing / tenant config file")
    home: Path = Field(default=Path(".ladder"), description="state of the embedded stack, model cache")
    flower_user: str | None = None
    flower_password: str | None = None
    log_level: str = "INFO"
    metrics_dir: Path | None = Field(default=None, description="Prometheus multiprocess files (default: <home>/metrics)")

    @field_validator("database_url")
    @classmethod
    def _use_psycopg3(cls, url: str | None) -> str | None:
        # Users paste the URL psql takes; SQLAlchemy needs the driver named.
        if url and url.startswith(("postgres://", "postgresql://")):
            return "postgresql+psycopg://" + url.split("://", 1)[1]
        return url

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, url: str | None) -> str | None:
        if url and not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"LADDER_REDIS_URL must start with redis:// (got {url!r})")
        return url

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    def require_database_url(self) -> str:
        if not self.database_url:
            from ladder.errors import ConfigError

            raise ConfigError("LADDER_DATABASE_URL is not set: export it, or run `ladder up` and `source .ladder/env`.")
        return self.database_url

    def require_urls(self) -> tuple[str, str]:
        """The broker and database URLs, or a message that says how to get them."""
        missing = [n for n, v in (("LADDER_REDIS_URL", self.redis_url), ("LADDER_DATABASE_URL", self.database_url)) if not v]
        if missing:
            from ladder.errors import ConfigError

            raise ConfigError(
                f"{' and '.join(missing)} not set: export them, or run `ladder up` "
                "to start the embedded Redis and PostgreSQL (it writes .ladder/env)."
            )
        return self.redis_url, self.database_url  # type: ignore[return-value]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
