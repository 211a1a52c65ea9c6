"""How tool failures reach the model, or do not.

The SDK turns a tool's exception into text for the model (``failure_error_function``) and wraps
anything that escapes in ``UserError``. Neither may happen to Restate's control flow: a
``TerminalError`` must end the invocation, and suspensions/cancellations must unwind untouched.
"""

from __future__ import annotations

from typing import Any

from agents.exceptions import AgentsException
from agents.run_context import RunContextWrapper
from restate.exceptions import TerminalError


class AgentTerminalError(TerminalError, AgentsException):
    """A ``restate.TerminalError`` the Agents SDK re-raises unchanged.

    The SDK re-raises ``AgentsException`` subclasses as they are and wraps any other tool exception
    in ``UserError``; being both, this reaches the handler's ``except restate.TerminalError`` and
    fails the invocation without a retry.
    """

    def __init__(self, message: str, status_code: int = 500, metadata: dict[str, str] | None = None) -> None:
        TerminalError.__init__(self, message, status_code, metadata)
        self.run_data = None


class ToolStepFailed(Exception):
    """A journaled tool's attempts ran out and it was told to report that to the model.

    Deliberately not a ``TerminalError``: ``failure_error_function`` turns it into text for the model.
    """

    def __init__(self, step: str, message: str) -> None:
        super().__init__(f"{step} failed and will not be retried: {message}")
        self.step = step
        self.failure = message


def as_agent_terminal_error(error: TerminalError) -> AgentTerminalError:
    if isinstance(error, AgentTerminalError):
        return error
    converted = AgentTerminalError(error.message, error.status_code, error.metadata)
    converted.__cause__ = error
    return converted


def raise_restate_errors(context: RunContextWrapper[Any], error: Exception) -> str:
    """``failure_error_function`` for tools that use Restate.

    - ``restate.TerminalError`` is re-raised as :class:`AgentTerminalError`: the invocation fails and
      the model never sees it.
    - Suspensions and cancellations unwind: the SDK hands a tool's ``CancelledError`` to this function
      wrapped, and it is re-raised rather than described to the model.
    - A journaled tool that ran out of attempts (``on_exhausted="tell_model"``) is reported as such.
    - Every other error is returned as text, so the model can react (the SDK's default behaviour).
    """
    if isinstance(error, ToolStepFailed):
        return f"The tool failed: {error}"
    cancelled = getattr(error, "cancelled_error", None)  # the SDK wraps a tool's CancelledError
    if isinstance(cancelled, BaseException):
        raise cancelled
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, TerminalError):
            raise as_agent_terminal_error(cause) from error
        if not isinstance(cause, Exception):  # SuspendedException, CancelledError, ...
            raise cause
        cause = cause.__cause__
    return f"An error occurred while running the tool. Please try again. Error: {error}"


_TERMINAL_CLASSES: dict[type[AgentsException], type[AgentTerminalError]] = {}


def _terminal_class(cls: type[AgentsException]) -> type[AgentTerminalError]:
    """``cls`` and ``AgentTerminalError`` in one class: ``except cls`` catches it as the SDK documents,
    and uncaught it ends the invocation as a ``TerminalError`` (Restate does not retry it)."""
    made = _TERMINAL_CLASSES.get(cls)
    if made is None:
        made = type(cls.__name__, (cls, AgentTerminalError), {"__module__": cls.__module__})
        made.__qualname__ = cls.__qualname__
        _TERMINAL_CLASSES[cls] = made
    return made


def terminal_sdk_error(error: AgentsException, message: str, status_code: int) -> AgentTerminalError:
    """``error`` (an Agents SDK exception) as an instance of its own class that is also terminal.

    Its attributes (``guardrail_result``, ``run_data``, ...) and ``str()`` are the original's; the
    ``TerminalError`` message Restate records is ``message`` unless the SDK class has a ``message``
    of its own. ``__cause__`` is the original exception.
    """
    cls = type(error) if not isinstance(error, AgentTerminalError) else None
    if cls is None:
        return error  # type: ignore[return-value]
    made = _terminal_class(cls)
    copy = made.__new__(made)
    copy.__dict__.update(error.__dict__)
    copy.args = error.args
    copy.message = error.__dict__.get("message", message)
    copy.status_code = status_code
    copy.metadata = None
    copy.__cause__ = error
    copy.__traceback__ = error.__traceback__
    return copy


def rebuilt_sdk_error(cls: type[AgentsException], message: str, status_code: int = 500) -> AgentTerminalError:
    """An SDK exception of class ``cls`` carrying only ``message``, rebuilt from a journaled failure."""
    made = _terminal_class(cls)
    error = made.__new__(made)
    error.args = (message,)
    error.message = message
    error.status_code = status_code
    error.metadata = None
    error.run_data = None
    return error
