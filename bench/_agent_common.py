"""What the three served variants of the benchmark agent share: the task, the tools' bodies, the script.

The agent: 3 tools, 4 model calls. The scripted model asks for ``get_weather``, then ``get_time``,
then ``convert_temperature``, then answers; every reply takes ``MODEL_LATENCY`` seconds. Each tool's
body is one side effect: in the durable variants one journaled ``ctx.run`` step.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol, TypeVar

import httpx

from integrations.runtime import RestateServer, ServiceProcess
from integrations.testing import ModelRequest, Reply, text, tool_call

MODEL = "gpt-4o"
MODEL_LATENCY = 0.1  # seconds per model request
INSTRUCTIONS = "You answer travel questions. Use the tools for facts."
MESSAGE = "What is the weather and the local time in Detroit, in Fahrenheit?"
ANSWER = "Detroit: overcast, 37.4°F, 14:05 local time."
TOOL_SCRIPT = (
    ("get_weather", {"city": "Detroit"}),
    ("get_time", {"city": "Detroit"}),
    ("convert_temperature", {"celsius": 3.0}),
)


def weather_body(city: str) -> str:
    return f"{city}: overcast, 3°C"


def time_body(city: str) -> str:
    return f"{city}: 14:05"


def convert_body(celsius: float) -> str:
    return f"{celsius * 9 / 5 + 32:.1f}°F"


def scripted_reply(request: ModelRequest) -> Reply:
    """The next step of the script, from how many tool results the request already carries."""
    done = len(request.tool_outputs())
    if done < len(TOOL_SCRIPT):
        name, arguments = TOOL_SCRIPT[done]
        return tool_call(name, arguments, delay=MODEL_LATENCY)
    return text(ANSWER, delay=MODEL_LATENCY)


def last_journal(server: RestateServer, service: str) -> tuple[int, int] | None:
    """(entries, bytes) of the journal of ``service``'s latest completed invocation, if any."""
    rows = server.query(
        f"SELECT id FROM sys_invocation WHERE target_service_name = '{service}' AND status = 'completed' "
        "ORDER BY created_at DESC LIMIT 1"
    )
    if not rows:
        return None
    entries = server.query(
        f"SELECT count(*) AS n, sum(raw_length) AS bytes FROM sys_journal WHERE id = '{rows[0]['id']}'"
    )
    if not entries or not entries[0].get("n"):
        return None
    return int(entries[0]["n"]), int(entries[0].get("bytes") or 0)


async def timed_run(client: httpx.AsyncClient, url: str) -> tuple[float, bool]:
    """POST the task to a variant's ``url``: (seconds until the answer, whether it was the right one)."""
    start = time.perf_counter()
    try:
        response = await client.post(url, json=MESSAGE)
        ok = response.status_code == 200 and response.json() == ANSWER
    except httpx.HTTPError:
        ok = False
    return time.perf_counter() - start, ok


class ServedVariant(Protocol):
    """A compared variant as :func:`serving` sees it: its durable service, if any, and its process."""

    service: str | None  # the Restate service; None: a plain HTTP app called directly
    process: ServiceProcess | None


V = TypeVar("V", bound=ServedVariant)


@contextmanager
def serving(server: RestateServer, variants: Sequence[V], process_of: Callable[[V], ServiceProcess]) -> Iterator[None]:
    """Start each variant's app (``process_of`` builds its process), register the durable ones with
    ``server``, and stop them all however the measurement ends (a failed start included)."""
    try:
        for variant in variants:
            variant.process = process_of(variant).start()
            if variant.service is not None:
                server.register(variant.process.uri)
        yield
    finally:
        for variant in variants:
            if variant.process is not None:
                variant.process.stop()
