"""One settings object, read once at the edge: CLI option > environment variable > default.

Nothing deeper in the package reads the environment; callers pass a ``Settings`` down.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

ENV_HOME = "SENTIMENT_APP_HOME"
ENV_DATA = "SENTIMENT_APP_DATA"
ENV_STORE = "SENTIMENT_APP_STORE"


@dataclass(frozen=True)
class Settings:
    """Where things live. ``data`` is None when the data set should be downloaded."""

    home: Path
    data: Path | None = None
    store_uri: str = field(default="")

    @property
    def store(self) -> str:
        """The artifact store URI: a local folder under home unless set."""
        return self.store_uri or str(self.home / "store")

    @property
    def downloads(self) -> Path:
        return self.home / "downloads"

    @property
    def jobs(self) -> Path:
        return self.home / "jobs"

    @property
    def endpoints(self) -> Path:
        return self.home / "endpoints"

    @property
    def apikeys(self) -> Path:
        """The gateway's API key store (hashes only) and usage counts."""
        return self.home / "apikeys"


def load_settings(
    home: str | os.PathLike | None = None,
    data: str | os.PathLike | None = None,
    store: str | None = None,
    environ: dict[str, str] | None = None,
) -> Settings:
    """Resolve settings with the precedence option > environment > default."""
    env = os.environ if environ is None else environ
    home_value = home or env.get(ENV_HOME) or platformdirs.user_data_dir("sentiment-app")
    data_value = data or env.get(ENV_DATA) or None
    return Settings(
        home=Path(home_value).expanduser().resolve(),
        data=Path(data_value).expanduser().resolve() if data_value else None,
        store_uri=store or env.get(ENV_STORE, ""),
    )
