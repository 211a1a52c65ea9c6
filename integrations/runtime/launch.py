"""Alias kept for scripts: ``python -m integrations.runtime.launch [NAME] [options]``.

It is ``durable-agents up NAME [options]`` (NAME defaults to ``quickstart``), the same code path as
``./dev up``; see :mod:`integrations.runtime._cli`.
"""

from __future__ import annotations

import sys

from ._cli import main as _cli_main


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0].startswith("-"):
        args.insert(0, "quickstart")
    return _cli_main(["up", *args])


if __name__ == "__main__":
    sys.exit(main())
