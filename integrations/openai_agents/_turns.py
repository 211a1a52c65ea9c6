"""The tool-call baton, shared with the Google ADK adapter: see ``integrations._tool_turns``."""

from .._tool_turns import ToolTurn, install_baton, retire_when_superseded

__all__ = ["ToolTurn", "install_baton", "retire_when_superseded"]
