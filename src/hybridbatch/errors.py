"""Errors a user can fix. The CLI prints them as one line and exits with code 2."""

from __future__ import annotations


class HybridbatchError(Exception):
    """Base class of every error caused by the user's input (file, flag, model, dataset)."""


class DataError(HybridbatchError):
    """A dataset file is missing, malformed or inconsistent. The message names file, id and field."""


class ModelError(HybridbatchError):
    """A model spec cannot be resolved or loaded."""


class ConfigError(HybridbatchError):
    """A training/evaluation setting is invalid."""


class OutputError(HybridbatchError):
    """An output location is unusable, or writing there would replace data the command did not create."""
