"""``python -m sentiment_app`` is the ``sentiment-app`` command."""

from sentiment_app.cli import main

main()
