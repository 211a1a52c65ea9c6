"""All pattern services with their defaults, as one Restate app.

``hypercorn patterns.app:app`` or ``python -m integrations.runtime.serve patterns.app:app --port 9080``,
then register ``http://localhost:9080`` with the Restate server.
"""

from __future__ import annotations

import restate

from . import DEFAULT_SERVICES

app = restate.app(services=list(DEFAULT_SERVICES))
