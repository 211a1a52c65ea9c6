"""Serve a Restate app with hypercorn: ``python -m integrations.runtime.serve TARGET --port N``.

This is the process :class:`ServiceProcess` starts (``durable-agents up|serve`` and the tests); it
serves exactly one app and nothing else. TARGET is ``package.module:attr`` or ``path/to/file.py:attr``.
File paths let deployable agents live in the top-level ``agents/`` folder, which must not be a
package (the OpenAI Agents SDK owns ``import agents``); as with ``python path/to/file.py``, the file's
folder goes first on ``sys.path`` so the app can import the modules beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import logging
import signal
import sys
from pathlib import Path
from typing import Any


def load_target(target: str) -> Any:
    """Import ``module:attr`` or ``file.py:attr`` and return the attribute."""
    location, _, attr = target.rpartition(":")
    if not location or not attr:
        raise ValueError(f"target must look like 'module:app' or 'path/file.py:app', got {target!r}")
    if location.endswith(".py"):
        path = Path(location).resolve()
        if not path.exists():
            raise FileNotFoundError(path)
        name = "_served_" + "_".join(path.with_suffix("").parts[-3:]).replace("-", "_")
        if str(path.parent) not in sys.path:
            sys.path.insert(0, str(path.parent))
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    else:
        module = importlib.import_module(location)
    return getattr(module, attr)


async def _serve(app: Any, host: str, port: int) -> None:
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"{host}:{port}"]
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")  # through our logging config: no second handler
    config.graceful_timeout = 1.0
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, stop.set)
    try:
        # The Restate app installs its own SIGTERM handler on first use, which would replace a plain
        # add_signal_handler; its hook registry lets both run.
        from restate.server import install_shutdown_hook

        install_shutdown_hook(loop, stop.set, signal.SIGTERM)
    except ImportError:  # pragma: no cover - older SDK without the registry
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    await serve(app, config, shutdown_trigger=stop.wait)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("target")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9080)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("LiteLLM").setLevel(logging.WARNING)  # it logs every completion at INFO
    from integrations.tracing import enable_tracing_from_env

    enable_tracing_from_env()  # DURABLE_AGENTS_OTEL=1: replay-safe OpenTelemetry spans of the agents
    app = load_target(args.target)
    litellm: Any = sys.modules.get("litellm")
    if litellm is not None:
        # LiteLLM prints a "Give Feedback / Get Help" banner to stdout on every provider error; in a
        # service whose retries are journaled (and whose stdout the launcher echoes) that is noise.
        # Set here, in the process the toolkit owns, not at import of the adapter.
        litellm.suppress_debug_info = True
    asyncio.run(_serve(app, args.host, args.port))


if __name__ == "__main__":
    main()
