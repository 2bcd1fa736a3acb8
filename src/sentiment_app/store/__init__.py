"""The artifact store: where processed data and models live, addressed by bucket-style keys."""

from sentiment_app.store.base import ArtifactStore, open_store

__all__ = ["ArtifactStore", "open_store"]
