"""Errors users can act on: the CLI prints their message, never a traceback."""


class SentimentAppError(Exception):
    """Base class for errors with a message meant for the user."""


class DataError(SentimentAppError):
    """The data set is missing, incomplete or malformed."""


class ArtifactError(SentimentAppError):
    """A model or store artifact is missing, corrupt or does not match its manifest."""


class StorageError(SentimentAppError):
    """A file could not be written: the disk is full, or the folder is read-only or not a folder."""
