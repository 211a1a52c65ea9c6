"""Warn once per message: a lenient decoding repeats on every replay of every journaled step, and a
log that says the same thing a thousand times hides the one line that matters."""

from __future__ import annotations

import logging

__all__ = ["warn_lenient", "warn_once"]

_warned: set[tuple[str, str]] = set()
"""(logger name, message) pairs already logged in this process."""


def warn_once(logger: logging.Logger, message: str) -> None:
    """``logger.warning(message)``, the first time this logger is given this message."""
    if (logger.name, message) not in _warned:
        _warned.add((logger.name, message))
        logger.warning("%s", message)


def warn_lenient(logger: logging.Logger, record: str, message: str) -> None:
    """Once: a journaled ``record`` (written by another library version) was decoded leniently."""
    warn_once(logger, f"journaled {record} decoded leniently: {message}")
