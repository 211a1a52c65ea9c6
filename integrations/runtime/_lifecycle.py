"""``with`` support shared by the runtime's processes: the server, the cluster, a service, a stack."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self


class Started(ABC):
    """Something started and stopped: ``with X(...) as x:`` starts it and, on the way out, calls
    ``cleanup()`` - ``stop()``, unless a subclass also has a data directory to delete."""

    @abstractmethod
    def start(self) -> Self:
        """Start and return ``self`` (so ``x = X(...).start()`` reads as one step)."""

    @abstractmethod
    def stop(self) -> None:
        """Stop; stopping a stopped one does nothing."""

    def cleanup(self) -> None:
        """What leaving a ``with`` block does: stop (subclasses that own files also delete them)."""
        self.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cleanup()
