"""What ``durable-agents up|serve TARGET`` runs: a code target, or an app's ``launch.toml``.

TARGET is one of (resolved from the current directory):

- ``path/to/file.py:app`` or ``package.module:app``: the Restate app object to serve
  (``path/to/file.py`` alone means its ``app``);
- a folder holding a ``launch.toml`` (or the path of that file);
- a NAME, looked up as ``agents/<NAME>/launch.toml``, then ``<NAME>/launch.toml``, then the
  ``launch.toml`` shipped inside an installed package ``<NAME>`` (``durable-agents up patterns``).

A ``launch.toml`` lives next to its app and holds the app's launch facts, so adding an agent needs no
edit of the toolkit::

    name = "tour"                                    # ./dev up tour
    target = "app.py:app"                            # relative to this file's folder, or package.module:attr
    offline_responder = "offline_model.py:responder" # optional: used when OPENAI_API_KEY is unset
    banner = ["extra line shown first in the banner"] # optional; {ingress} / {service} / {web}: the ports
    [offline_env]                                    # optional env for the service in offline mode
    WEATHER_OFFLINE = "1"
    [env]                                            # optional env always set for the service
    [[examples]]                                     # zero or more; {ingress} is replaced by the ingress port
    title = "durable agent"
    curl = \"\"\"curl localhost:{ingress}/WeatherAgent/run --json '{"message": "What is the weather in Paris?"}'\"\"\"
    [demo]                                           # optional, for --demo
    service = "WeatherAgent"
    handler = "run"
    payload = {message = "What is the weather like in San Francisco?"}
    key = "user123"                                  # optional: the key of a virtual object / workflow

A target (or responder) whose part before the colon ends in ``.py`` or contains a ``/`` is a file
path; anything else is a module path imported from the service's working directory or site-packages.
The offline responder is a ``integrations.testing`` responder (``ModelRequest -> Reply``) that a
:class:`~integrations.testing.ScriptedModelServer` serves when ``OPENAI_API_KEY`` is not set; the
service then gets that server's ``OPENAI_BASE_URL`` plus ``[offline_env]``.
A plain code target with a ``launch.toml`` beside it whose ``target`` names the same app uses that
file's facts; without one it is served as-is (no offline model, generic call hints).
"""

from __future__ import annotations

import importlib.util
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

__all__ = ["LAUNCH_FILE", "Demo", "Example", "LaunchError", "LaunchSpec", "load_launch_file", "resolve_target"]

LAUNCH_FILE = "launch.toml"


class LaunchError(ValueError):
    """A TARGET that cannot be resolved or a malformed ``launch.toml``; the message says which and why."""


@dataclass(frozen=True)
class Example:
    """A ready-to-run call shown in the banner; ``{ingress}`` in ``curl`` becomes the ingress port."""

    title: str
    curl: str


@dataclass(frozen=True)
class Demo:
    """The one request ``up --demo`` sends, prints the answer of, and exits."""

    service: str
    handler: str
    payload: Any = None
    key: str | None = None


@dataclass(frozen=True)
class LaunchSpec:
    """Everything the launcher needs to serve one app. Only ``target`` is required."""

    target: str
    """``/abs/path/file.py:attr`` or ``package.module:attr``."""
    name: str | None = None
    source: Path | None = None
    """The ``launch.toml`` these facts came from, if any."""
    offline_responder: str | None = None
    banner: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    offline_env: Mapping[str, str] = field(default_factory=dict)
    examples: tuple[Example, ...] = ()
    demo: Demo | None = None

    @property
    def label(self) -> str:
        """How to name the app in messages: its ``name``, else its target."""
        return self.name or self.target


def _is_file_target(location: str) -> bool:
    return location.endswith(".py") or "/" in location or "\\" in location


def _split(target: str, what: str) -> tuple[str, str]:
    location, sep, attr = target.rpartition(":")
    if not sep or not location or not attr or not attr.isidentifier():
        raise LaunchError(f"{what} must look like 'path/to/file.py:app' or 'package.module:app', got {target!r}")
    return location, attr


def _absolute(target: str, base: Path, what: str) -> str:
    """Make a file target absolute (relative to ``base``); module targets are returned unchanged."""
    location, attr = _split(target, what)
    if not _is_file_target(location):
        return f"{location}:{attr}"
    path = (base / location).resolve()
    if not path.is_file():
        raise LaunchError(f"{what} {target!r}: no such file {path}")
    return f"{path}:{attr}"


class _Example(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    title: str = ""
    curl: str


class _Demo(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    service: str
    handler: str
    payload: Any = None
    key: str | None = None


class _LaunchFile(BaseModel):
    """The schema of a ``launch.toml``; :func:`load_launch_file` turns its errors into one message."""

    model_config = ConfigDict(extra="forbid", strict=True)
    target: str
    name: str | None = None
    offline_responder: str | None = None
    banner: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    offline_env: dict[str, str] = Field(default_factory=dict)
    examples: list[_Example] = Field(default_factory=list)
    demo: _Demo | None = None

    @field_validator("banner", mode="before")
    @classmethod
    def _one_line(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


_HINTS = {
    "target": "'target' is required, e.g. target = \"app.py:app\"",
    "name": "'name' must be a string",
    "offline_responder": "'offline_responder' must be a string like \"offline_model.py:responder\"",
    "banner": "'banner' must be a list of strings",
    "env": '[env] must be a table of strings, e.g. WEATHER_OFFLINE = "1"',
    "offline_env": '[offline_env] must be a table of strings, e.g. WEATHER_OFFLINE = "1"',
    "demo": "[demo] needs strings 'service' and 'handler', optional 'payload' and 'key'",
}
"""What to write instead, by top-level key (examples: see :func:`_problem`)."""


def _problem(error: ErrorDetails) -> str:
    """One validation error as the key it concerns, what to write, and pydantic's own words."""
    loc = error["loc"]
    key = str(loc[0]) if loc else ""
    where = ".".join(str(part) for part in loc)
    if error["type"] == "extra_forbidden" and len(loc) == 1:
        allowed = ", ".join(sorted(_LaunchFile.model_fields))
        return f"unknown key(s) {key}; allowed: {allowed}"
    if key == "examples":
        index = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else 0
        if len(loc) < 2 or not isinstance(loc[1], int):
            return "write examples as [[examples]] tables with 'title' and 'curl'"
        return f"examples[{index}] needs a string 'curl' and optionally a string 'title' ({where}: {error['msg']})"
    hint = _HINTS.get(key, f"'{key}' is not valid")
    if error["type"] == "missing" and key == "target":
        return hint
    return f"{hint} ({where}: {error['msg']})"


def load_launch_file(path: str | Path) -> LaunchSpec:
    """Read and validate one ``launch.toml``; relative targets resolve against its folder.

    Every mistake is a :class:`LaunchError` that names the file and the key.
    """
    path = Path(path).resolve()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise LaunchError(f"cannot read {path}: {err}") from err
    except tomllib.TOMLDecodeError as err:
        raise LaunchError(f"{path} is not valid TOML: {err}") from err
    try:
        parsed = _LaunchFile.model_validate(data)
    except ValidationError as err:
        problems = list(dict.fromkeys(_problem(error) for error in err.errors()))
        raise LaunchError(f"{path}: {'; '.join(problems)}") from None
    folder = path.parent
    responder = parsed.offline_responder
    demo = parsed.demo
    return LaunchSpec(
        target=_absolute(parsed.target, folder, f"{path}: target"),
        name=parsed.name,
        source=path,
        offline_responder=_absolute(responder, folder, f"{path}: offline_responder") if responder else None,
        banner=tuple(parsed.banner),
        env=parsed.env,
        offline_env=parsed.offline_env,
        examples=tuple(Example(title=e.title, curl=e.curl) for e in parsed.examples),
        demo=Demo(demo.service, demo.handler, demo.payload, demo.key) if demo is not None else None,
    )


def _installed_package_dir(name: str) -> Path | None:
    """The folder of an importable top-level package ``name`` (without importing it)."""
    if not name.isidentifier():
        return None
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def resolve_target(target: str, cwd: str | Path | None = None) -> LaunchSpec:
    """Turn a command-line TARGET into a :class:`LaunchSpec` (see the module docstring for the forms)."""
    base = Path(cwd or Path.cwd()).resolve()
    if target.endswith(".py") and ":" not in target:
        if not (base / target).is_file():
            raise LaunchError(f"cannot resolve TARGET {target!r}: {base / target} does not exist")
        target += ":app"  # a Python file serves its `app`, as `uvicorn file:app` would be written
    if ":" in target:
        resolved = _absolute(target, base, "TARGET")
        location, _ = _split(resolved, "TARGET")
        if _is_file_target(location):
            beside = Path(location).parent / LAUNCH_FILE
            if beside.is_file():
                spec = load_launch_file(beside)
                if spec.target == resolved:
                    return spec
        return LaunchSpec(target=resolved)
    candidates: list[Path] = []
    given = base / target
    if given.is_file():
        return load_launch_file(given)
    candidates.append(given / LAUNCH_FILE)
    if "/" not in target and "\\" not in target:
        candidates.insert(0, base / "agents" / target / LAUNCH_FILE)
        package = _installed_package_dir(target)
        if package is not None:
            candidates.append(package / LAUNCH_FILE)
    for candidate in candidates:
        if candidate.is_file():
            return load_launch_file(candidate)
    tried = ", ".join(str(c) for c in dict.fromkeys(candidates))
    raise LaunchError(
        f"cannot resolve TARGET {target!r}: no {LAUNCH_FILE} found (tried {tried}).\n"
        "TARGET is path/to/file.py:app, package.module:app, a folder holding a launch.toml, or an app name."
    )
