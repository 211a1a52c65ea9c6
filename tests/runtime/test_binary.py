"""Where the restate-server binary comes from: env, PATH, the checkout, the per-user npm cache."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from integrations.runtime import RESTATE_SERVER_VERSION, _binary, ensure_restate_server, locate_restate_server

from ..conftest import REPO_ROOT

SYSTEM_PATH = os.environ.get("PATH", "/usr/bin:/bin")
PACKAGE = f"@restatedev/restate-server@{RESTATE_SERVER_VERSION}"


def _executable(path: Path, body: str = "#!/bin/sh\nexit 0\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


FAKE_NPM = """#!/bin/sh
# Records its arguments, then does what `npm install --prefix DIR PKG` does for the .bin link.
echo "$@" >> "{log}"
[ -n "{fail}" ] && exit 1
while [ $# -gt 0 ]; do
  if [ "$1" = "--prefix" ]; then prefix="$2"; fi
  shift
done
{mkdir} -p "$prefix/node_modules/.bin"
printf '#!/bin/sh\\necho fake restate-server\\n' > "$prefix/node_modules/.bin/restate-server"
{chmod} +x "$prefix/node_modules/.bin/restate-server"
"""


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No DURABLE_AGENTS_RESTATE_SERVER_BIN, an empty PATH, a fresh cache and HOME, and no repository checkout."""
    monkeypatch.delenv("DURABLE_AGENTS_RESTATE_SERVER_BIN", raising=False)
    (tmp_path / "empty-bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(_binary, "_CHECKOUT", tmp_path / "site-packages")
    return tmp_path


def _fake_npm(tmp_path: Path, *, fail: bool = False) -> Path:
    log = tmp_path / "npm-calls.log"
    tools = {name: shutil.which(name, path=SYSTEM_PATH) for name in ("mkdir", "chmod")}
    _executable(tmp_path / "npm-bin" / "npm", FAKE_NPM.format(log=log, fail="yes" if fail else "", **tools))
    return log


def test_package_json_pins_the_same_server_version() -> None:
    pinned = json.loads((REPO_ROOT / "package.json").read_text())["dependencies"]["@restatedev/restate-server"]
    assert pinned == RESTATE_SERVER_VERSION


def test_resolution_order_env_then_path_then_checkout_then_cache(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp_path = isolated
    assert locate_restate_server() is None

    cached = _executable(
        tmp_path
        / "cache"
        / "durable-agents"
        / "restate-server"
        / RESTATE_SERVER_VERSION
        / "node_modules"
        / ".bin"
        / "restate-server"
    )
    assert locate_restate_server() == cached

    checkout = tmp_path / "checkout"
    (checkout / "package.json").parent.mkdir(parents=True)
    (checkout / "package.json").write_text("{}")
    (checkout / "pyproject.toml").write_text("")
    in_checkout = _executable(checkout / "node_modules" / ".bin" / "restate-server")
    monkeypatch.setattr(_binary, "_CHECKOUT", checkout)
    assert locate_restate_server() == in_checkout

    on_path = _executable(tmp_path / "user-bin" / "restate-server")
    monkeypatch.setenv("PATH", f"{tmp_path / 'empty-bin'}{os.pathsep}{on_path.parent}")
    assert locate_restate_server() == on_path

    explicit = _executable(tmp_path / "explicit" / "my-restate-server")
    monkeypatch.setenv("DURABLE_AGENTS_RESTATE_SERVER_BIN", str(explicit))
    assert locate_restate_server() == explicit
    assert ensure_restate_server() == explicit


def test_node_modules_outside_a_checkout_is_ignored(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Installed from a wheel, the package's grandparent is site-packages: never look for node_modules there."""
    site_packages = isolated / "site-packages"
    _executable(site_packages / "node_modules" / ".bin" / "restate-server")
    assert locate_restate_server() is None


def test_installs_once_with_npm_into_the_user_cache(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tmp_path = isolated
    log = _fake_npm(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "npm-bin"))
    binary = ensure_restate_server()
    expected_dir = tmp_path / "cache" / "durable-agents" / "restate-server" / RESTATE_SERVER_VERSION
    assert binary == expected_dir / "node_modules" / ".bin" / "restate-server"
    assert binary.exists()
    calls = log.read_text().splitlines()
    assert len(calls) == 1 and calls[0].startswith("install --prefix ") and calls[0].endswith(PACKAGE)
    assert sorted(p.name for p in expected_dir.parent.iterdir()) == [RESTATE_SERVER_VERSION]  # no staging left

    assert ensure_restate_server() == binary
    assert len(log.read_text().splitlines()) == 1  # cached: npm is not run again


def test_cache_falls_back_to_home_without_xdg_cache_home(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME")
    _fake_npm(isolated)
    monkeypatch.setenv("PATH", str(isolated / "npm-bin"))
    binary = ensure_restate_server()
    assert binary.is_relative_to(isolated / "home" / ".cache" / "durable-agents" / "restate-server")


def test_missing_npm_says_what_to_do(isolated: Path) -> None:
    with pytest.raises(RuntimeError) as failure:
        ensure_restate_server()
    message = str(failure.value)
    assert "npm is missing" in message and "RESTATE_SERVER_BIN" in message and "Node.js" in message


def test_failed_npm_install_leaves_no_half_filled_cache(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = _fake_npm(isolated, fail=True)
    monkeypatch.setenv("PATH", str(isolated / "npm-bin"))
    with pytest.raises(RuntimeError, match=r"npm install .* failed"):
        ensure_restate_server()
    assert log.read_text().count(PACKAGE) == 1
    versions = isolated / "cache" / "durable-agents" / "restate-server"
    assert list(versions.iterdir()) == []
    assert locate_restate_server() is None
