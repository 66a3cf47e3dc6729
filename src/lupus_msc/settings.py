"""One configuration for the whole application, read from ``LUPUS_MSC_*`` variables (STYLE habit 9).

Every setting is documented in the README (a test checks it). Bad values are refused loudly.
"""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///lupus-msc.sqlite3"


class Settings(BaseSettings):
    """Settings of a lupus-msc installation."""

    model_config = SettingsConfigDict(env_prefix="LUPUS_MSC_", extra="forbid", frozen=True)

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL of the registry: sqlite:///FILE (default) or "
        "postgresql+psycopg://USER@HOST:PORT/NAME.",
    )

    @field_validator("database_url")
    @classmethod
    def _supported_backend(cls, url: str) -> str:
        if not url.startswith(("sqlite:///", "postgresql+psycopg://", "postgresql://")):
            raise ValueError("must start with sqlite:/// or postgresql+psycopg://")
        return url


def load_settings() -> Settings:
    """The settings from the environment (read anew on every call, so tests can change them)."""
    return Settings()
