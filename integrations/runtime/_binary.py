"""Find the restate-server binary, or install the pinned one from npm into a per-user cache.

Resolution order (first hit wins):

1. ``$DURABLE_AGENTS_RESTATE_SERVER_BIN``: an explicit binary, used as given;
2. ``restate-server`` on ``PATH``: a server the user installed themselves (brew, npm -g, a release);
3. in a checkout of this repository: ``node_modules/.bin/restate-server`` (``./dev`` installs it from
   ``package.json``);
4. the per-user cache ``${XDG_CACHE_HOME:-~/.cache}/durable-agents/restate-server/<version>/``,
   filled once with ``npm install @restatedev/restate-server@<version>``.

Nothing is ever written into site-packages: an installed toolkit is read-only to itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .. import settings

__all__ = [
    "NPM_PACKAGE",
    "RESTATE_SERVER_VERSION",
    "ensure_restate_server",
    "locate_restate_server",
    "server_cache_dir",
]

RESTATE_SERVER_VERSION = "1.7.12"
"""The one pinned server version. ``package.json`` pins the same for the repo (a test checks they agree)."""

NPM_PACKAGE = "@restatedev/restate-server"
"""The npm package that ships the native binary (with a small Node.js launcher)."""

_CHECKOUT = Path(__file__).resolve().parents[2]
"""The repository root when running from a checkout; site-packages when installed from a wheel."""


def _checkout_binary() -> Path | None:
    """``node_modules/.bin/restate-server`` of this repository, only when running from a checkout."""
    if not ((_CHECKOUT / "package.json").is_file() and (_CHECKOUT / "pyproject.toml").is_file()):
        return None
    binary = _CHECKOUT / "node_modules" / ".bin" / "restate-server"
    return binary if binary.exists() else None


def server_cache_dir(version: str = RESTATE_SERVER_VERSION) -> Path:
    """Where :func:`ensure_restate_server` installs ``version``: a per-user cache, never site-packages."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "durable-agents" / "restate-server" / version


def _cached_binary(version: str) -> Path:
    return server_cache_dir(version) / "node_modules" / ".bin" / "restate-server"


def locate_restate_server(version: str = RESTATE_SERVER_VERSION) -> Path | None:
    """The binary by the resolution order above, or None if it would have to be installed first."""
    explicit = settings.RESTATE_SERVER_BIN.raw()
    if explicit:
        return Path(explicit)
    on_path = shutil.which("restate-server")
    if on_path:
        return Path(on_path)
    in_checkout = _checkout_binary()
    if in_checkout is not None:
        return in_checkout
    cached = _cached_binary(version)
    return cached if cached.exists() else None


def ensure_restate_server(version: str = RESTATE_SERVER_VERSION) -> Path:
    """Return the binary, installing ``version`` from npm into the per-user cache if none is found.

    The install goes to a temporary sibling folder that is renamed into place when complete, so an
    interrupted or concurrent install never leaves a half-filled cache behind.
    """
    binary = locate_restate_server(version)
    if binary is not None:
        return binary
    npm = shutil.which("npm")
    target = server_cache_dir(version)
    if npm is None:
        raise RuntimeError(
            f"restate-server was not found and npm is missing, so it cannot be installed.\n"
            f"Either install Node.js (18+, it brings npm) and run again: the server is then installed once "
            f"into {target};\n"
            f"or install restate-server yourself (https://docs.restate.dev/installation) and put it on PATH;\n"
            f"or set DURABLE_AGENTS_RESTATE_SERVER_BIN to a restate-server binary."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=target.parent))
    print(
        f"installing restate-server {version} from npm ({NPM_PACKAGE}) into {target} (once) ...",
        file=sys.stderr,
        flush=True,
    )
    try:
        result = subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(staging),
                "--no-save",
                "--no-package-lock",
                "--no-audit",
                "--no-fund",
                "--update-notifier=false",
                "--loglevel=error",
                f"{NPM_PACKAGE}@{version}",
            ],
            cwd=staging,
            stdout=subprocess.DEVNULL,  # only "added N packages"; npm's errors go to stderr
            check=False,
        )
        installed = staging / "node_modules" / ".bin" / "restate-server"
        if result.returncode != 0 or not installed.exists():
            raise RuntimeError(
                f"npm install {NPM_PACKAGE}@{version} failed (exit {result.returncode}); see npm's output above. "
                "Set DURABLE_AGENTS_RESTATE_SERVER_BIN to a restate-server binary to skip the install."
            )
        if target.exists() and not _cached_binary(version).exists():
            shutil.rmtree(target)  # a broken earlier install: replace it
        try:
            staging.rename(target)
        except OSError:
            if not _cached_binary(version).exists():  # not a concurrent install that won the race
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return _cached_binary(version)
