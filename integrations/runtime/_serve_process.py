"""The process a :class:`ServiceProcess` starts: ``python -m integrations.runtime._serve_process``.

It is ``serve.main``; a module of its own because ``integrations.runtime`` imports ``serve``, and
running an already imported module with ``-m`` makes Python print a ``RuntimeWarning`` on every start.
"""

from __future__ import annotations

import sys

from .serve import main

if __name__ == "__main__":
    sys.exit(main())
