"""Get the IMDB data: download it, or read it from a local archive, folder or CSV pair."""

from sentiment_app.data.dataset import Reviews, load_imdb, stratified_sample

__all__ = ["Reviews", "load_imdb", "stratified_sample"]
