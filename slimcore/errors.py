"""The one exception family slimcore raises for things a user can fix."""
from __future__ import annotations


class SlimcoreError(Exception):
    """Base of every error meant for a user: the message names the problem and the fix."""


class ConfigError(SlimcoreError, ValueError):
    """A setting is missing, unknown or out of range."""


class DataError(SlimcoreError):
    """A data set cannot be found, read or split."""


class CheckpointError(SlimcoreError):
    """A checkpoint or exported model file is missing, truncated or of another model."""


class StoreError(SlimcoreError):
    """The run store cannot be read or written, or a run does not exist."""


class TrainingDiverged(SlimcoreError):
    """Loss became NaN or infinite; the message says which setting to lower."""


class Stopped(SlimcoreError):
    """A job was asked to stop before it had anything to keep; its run ends `stopped` with this message."""
