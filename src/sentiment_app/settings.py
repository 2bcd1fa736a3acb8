"""One settings object, read once at the edge: CLI option > environment variable > the home's memory
> default.

Nothing deeper in the package reads the environment; callers pass a ``Settings`` down. A home
remembers the data it was prepared from (``<home>/data.json``), so ``train`` or ``evaluate`` after a
``pipeline --data X`` find X again without being told.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

ENV_HOME = "SENTIMENT_APP_HOME"
ENV_DATA = "SENTIMENT_APP_DATA"
ENV_STORE = "SENTIMENT_APP_STORE"
DATA_RECORD = "data.json"


@dataclass(frozen=True)
class Settings:
    """Where things live. ``data`` is None when the data set should be downloaded;
    ``data_remembered`` says it came from the home's record rather than from the caller."""

    home: Path
    data: Path | None = None
    store_uri: str = field(default="")
    data_remembered: bool = False

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
    def data_record(self) -> Path:
        """Where the home remembers the data it was prepared from."""
        return self.home / DATA_RECORD

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
    home_path = Path(home_value).expanduser().resolve()
    data_value = data or env.get(ENV_DATA) or None
    remembered = None if data_value else _remembered_data(home_path / DATA_RECORD)
    return Settings(
        home=home_path,
        data=Path(data_value).expanduser().resolve() if data_value else remembered,
        store_uri=store or env.get(ENV_STORE, ""),
        data_remembered=remembered is not None,
    )


def _remembered_data(record: Path) -> Path | None:
    try:
        return Path(json.loads(record.read_text(encoding="utf-8"))["data"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no record (or an unreadable one): as if the home had never seen data
