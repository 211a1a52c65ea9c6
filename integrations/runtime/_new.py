"""``durable-agents new NAME [--template agent|chat|approval|litellm|adk]``: start a project.

Writes a folder ``NAME`` holding a runnable agent (``agent.py``: imports, tools, a Restate service,
``app``), its ``launch.toml`` (example calls, a ``[demo]``, the generic offline model), a pytest
file that runs it against a real restate-server offline, and a short README. ``cd NAME &&
durable-agents up`` works at once, without an API key, and ``pytest`` passes.

The templates live in ``templates/<template>/*.tmpl`` (shipped in the wheel); ``__NAME__`` becomes
the project's name, ``__NAME_ID__`` the name as a Python identifier (``my_agent``: ADK's agent
names must be) and ``__SERVICE__`` its Restate service name (``my-agent`` -> ``MyAgent``).
"""

from __future__ import annotations

import keyword
import re
from importlib import resources
from pathlib import Path

__all__ = ["TEMPLATES", "NewProjectError", "new_project", "service_name"]

TEMPLATES = {
    "agent": "a service whose agent calls a tool (the default)",
    "chat": "a Virtual Object per conversation, with its history in Restate state",
    "approval": "a tool that waits for a person's approval (awakeables), across restarts",
    "litellm": "a LiteLLM tool loop, each model and tool call one journaled step",
    "adk": "a Google ADK agent with a tool, its session in a Virtual Object's state",
}

_EXTRAS = {
    "agent": "openai-agents",
    "chat": "openai-agents",
    "approval": "openai-agents",
    "litellm": "litellm",
    "adk": "google-adk",
}
"""The extra each template's project installs."""

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


class NewProjectError(ValueError):
    """The project cannot be created: the message says why (bad name, folder exists, ...)."""


def service_name(name: str) -> str:
    """``my-agent`` / ``my_agent`` -> ``MyAgent``: a Restate service name, as the docs write them."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[-_]+", name) if part)


def _template_files(template: str) -> dict[str, str]:
    root = resources.files("integrations.runtime").joinpath("templates")
    files: dict[str, str] = {}
    for folder in ("common", template):
        for entry in root.joinpath(folder).iterdir():
            if entry.name.endswith(".tmpl"):
                files[entry.name.removesuffix(".tmpl")] = entry.read_text(encoding="utf-8")
    return files


def new_project(name: str, *, template: str = "agent", parent: str | Path | None = None) -> Path:
    """Create the project folder ``parent/name`` from ``template``; return its path.

    Refuses (:class:`NewProjectError`) a name that is not a plain identifier-like word, a Python
    keyword, an unknown template, or a folder that already exists and is not empty.
    """
    if template not in TEMPLATES:
        raise NewProjectError(f"unknown template {template!r}: choose one of {', '.join(TEMPLATES)}")
    if not _NAME.match(name) or keyword.iskeyword(name):
        raise NewProjectError(
            f"{name!r} is not a usable project name: start with a letter, then letters, digits, '-' or '_'"
        )
    if name == "agents":
        raise NewProjectError("'agents' is the OpenAI Agents SDK's import name: choose another project name")
    folder = Path(parent or Path.cwd()).resolve() / name
    if folder.exists() and any(folder.iterdir()):
        raise NewProjectError(f"{folder} already exists and is not empty")
    folder.mkdir(parents=True, exist_ok=True)
    for filename, content in _template_files(template).items():
        filled = content.replace("__NAME_ID__", name.replace("-", "_")).replace("__NAME__", name)
        filled = filled.replace("__SERVICE__", service_name(name))
        filled = filled.replace("__TEMPLATE__", template).replace("__EXTRA__", _EXTRAS[template])
        (folder / filename).write_text(filled, encoding="utf-8")
    (folder / ".gitignore").write_text(".restate/\n.test-logs/\n__pycache__/\n", encoding="utf-8")
    return folder
