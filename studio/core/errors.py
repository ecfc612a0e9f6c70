"""Errors a person can read.

Every problem caused by the user's input (a bad file, an unknown model, an unreadable
checkpoint, a dataset that cannot be downloaded) is a StudioError whose message is one
clear sentence. The CLI prints it and exits 1; the GUI shows it in a dialog or in place.
Anything else is a bug and keeps its traceback.
"""


class StudioError(Exception):
    """A problem with the user's input, explained in the message."""


class ImageDecodeError(StudioError):
    """A file that cannot be used as an image; `reason` is a short tag (e.g. 'truncated')."""

    def __init__(self, message: str, reason: str = "unreadable", path: str | None = None):
        super().__init__(message)
        self.reason = reason
        self.path = path


class DatasetError(StudioError):
    """A dataset that is unknown, missing or malformed."""


class DownloadError(DatasetError):
    """Files that could not be downloaded (offline, blocked); the message says where to put them."""


class ModelError(StudioError):
    """An unknown model, bad model options, or weights that do not fit."""


class CheckpointError(StudioError):
    """A checkpoint that cannot be read safely or does not match its architecture."""


class RunError(StudioError):
    """A run folder that is missing or cannot be resumed."""
