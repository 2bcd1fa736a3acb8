"""sentiment-app: IMDB review sentiment, the SageMaker way, running whole on one machine."""

__version__ = "0.1.0"
