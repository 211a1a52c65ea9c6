"""Every core module imports on a core-only install (``pip install durable-agents-toolkit``, no extra):
a fresh interpreter in which the extras' packages cannot be imported walks the whole package."""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import REPO_ROOT

EXTRA_PACKAGES = ("openai", "agents", "litellm", "mcp", "opentelemetry", "httpx2", "google")
"""What the extras (openai-agents, litellm, google-adk) and the tracing setup bring; absent on a core install."""

NEEDS_AN_EXTRA = {
    "integrations.litellm": "litellm",
    "integrations.google_adk": "google-adk",
    "integrations.openai_agents": "openai-agents",
    "integrations.testing._scripted_model": "openai-agents (ScriptedModel is an Agents SDK Model)",
    "integrations.tracing._processor": "openai-agents (bridges the SDK's traces)",
    "integrations.tracing._setup": "opentelemetry",
    "integrations.tracing._spans": "opentelemetry",
}

HIDE_THE_EXTRAS = f"""
import sys

class Absent:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {EXTRA_PACKAGES!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, Absent())
"""
"""Makes this checkout's interpreter look like a core-only install (the acceptance test has a real one)."""

WALK = """
import importlib, json, pkgutil
import integrations
failed = {}
for module in pkgutil.walk_packages(integrations.__path__, "integrations.", onerror=lambda name: None):
    if module.name.endswith("__main__"):
        continue
    try:
        importlib.import_module(module.name)
    except Exception as error:
        failed[module.name] = repr(error)
import integrations.errors as errors
verdict = errors.classify_provider_error(TimeoutError("slow"))
print(json.dumps({"failed": failed, "timeout_kind": str(verdict.kind) if verdict else None}))
"""
"""Imports every module of the package, then classifies an error: prints what failed, as JSON."""


def assert_every_core_module_imports(python: str, *, script: str, cwd: str) -> None:
    """Run ``script`` (ending in ``WALK``) with ``python``; only the modules that need an extra may fail."""
    result = subprocess.run([python, "-c", script], cwd=cwd, capture_output=True, text=True, timeout=120, check=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    unexpected = {name: error for name, error in report["failed"].items() if name not in NEEDS_AN_EXTRA}
    assert not unexpected, f"core modules that need an extra: {unexpected}"
    assert "integrations.errors" not in report["failed"] and "integrations.testing" not in report["failed"]
    assert report["timeout_kind"] == "timeout"  # the error table works without openai
    assert set(report["failed"]) == set(NEEDS_AN_EXTRA), "a module listed as needing an extra imports"


def test_every_core_module_imports_without_the_extras() -> None:
    assert_every_core_module_imports(sys.executable, script=HIDE_THE_EXTRAS + WALK, cwd=str(REPO_ROOT))
