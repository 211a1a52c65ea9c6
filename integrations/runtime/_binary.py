"""Locate, or install from npm, the pinned restate-server binary."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

RESTATE_SERVER_VERSION = "1.7.12"
"""The version pinned in package.json; the npm package ships the native binary."""

REPO_ROOT = Path(__file__).resolve().parents[2]


def locate_restate_server() -> Path | None:
    """Return the restate-server binary: $RESTATE_SERVER_BIN, the repo's node_modules, or PATH."""
    explicit = os.environ.get("RESTATE_SERVER_BIN")
    if explicit:
        return Path(explicit)
    local = REPO_ROOT / "node_modules" / ".bin" / "restate-server"
    if local.exists():
        return local
    found = shutil.which("restate-server")
    return Path(found) if found else None


def ensure_restate_server() -> Path:
    """Return the binary, running ``npm install`` in the repo (package.json pins it) if missing."""
    binary = locate_restate_server()
    if binary is not None:
        return binary
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            "restate-server is not installed and npm is missing: install Node.js/npm, or set "
            "RESTATE_SERVER_BIN to a restate-server binary."
        )
    subprocess.run(
        [npm, "install", "--no-package-lock", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=REPO_ROOT,
        check=True,
    )
    binary = locate_restate_server()
    if binary is None:
        raise RuntimeError(
            f"npm install finished but node_modules/.bin/restate-server is missing in {REPO_ROOT}"
        )
    return binary
