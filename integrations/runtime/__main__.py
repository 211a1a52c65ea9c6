"""``python -m integrations.runtime up|serve TARGET``: the ``durable-agents`` command without its script."""

import sys

from ._cli import main

sys.exit(main())
