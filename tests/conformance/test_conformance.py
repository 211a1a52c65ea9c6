"""Ordinary openai-agents programs give the same results under DurableRunner as with the plain
``Runner``: the same output, the same model requests, each tool body and hook run as often.

Compared normally, on a server that replays every step, and with the service SIGKILLed while each
program's last model request is open (that one request is sent again, nothing else). Each campaign
runs all programs at once against one scripted model; see ``programs.py`` for what they do.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from integrations.runtime import RestateServer

from ._campaign import Observation, Request, kill_requests, run_durable, run_plain
from .programs import PROGRAMS

MODES = ("normal", "replay", "kill")

Campaign = dict[str, Observation]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("conformance")


@pytest.fixture(scope="module")
def plain(workdir: Path) -> Campaign:
    return run_plain(workdir)


def hold_points(plain: Campaign) -> dict[str, int]:
    """Kill while each program's last model request is open: its tools and hooks have all run."""
    return {name: len(seen.requests) for name, seen in plain.items() if seen.requests}


@pytest.fixture(scope="module")
def durable(request: pytest.FixtureRequest, plain: Campaign, workdir: Path) -> Callable[[str], Campaign]:
    """Each mode's campaign, run on first use and shared by the module's tests."""
    campaigns: dict[str, Campaign] = {}

    def campaign(mode: str) -> Campaign:
        if mode not in campaigns:
            server: RestateServer = request.getfixturevalue("replay_server" if mode == "replay" else "restate_server")
            hold_at = hold_points(plain) if mode == "kill" else None
            campaigns[mode] = run_durable(server, workdir / mode, hold_at=hold_at)
        return campaigns[mode]

    return campaign


def test_the_suite_has_the_programs_the_issue_names(plain: Campaign) -> None:
    assert len(PROGRAMS) >= 12
    # the plain runs did what the programs are about, so an equal durable run means something
    assert plain["tools"].effects == ["email:ada", "roll=<roll>"]
    assert plain["run_hooks"].effects.count("run_hook:llm_start:HookedMailer") == 2
    assert plain["input_guardrail_trips"].output[1] == "blocked: homework"
    assert plain["guardrail_raises"].output == ["answer to 'hello'", "moderation down: moderation service unavailable"]
    assert plain["output_guardrail_trips"].output.startswith("withheld:")
    assert plain["guardrail_nested_run"].output == ["answer to 'explain durability'", "blocked"]
    assert plain["gathered"].output == ["a poem about <roll>", "a critique"]
    assert plain["handoffs"].output == ["a refund is on its way", "Specialist"]
    assert plain["structured_output"].output == {"type": "Trip", "city": "Paris", "days": 3}
    assert plain["forced_tool"].output == "sunny in Denver"
    assert plain["custom_context"].output[1] == ["tea", "cake"]
    assert sorted(e.split("=")[0] for e in plain["parallel_tools"].effects) == ["flights", "hotels", "trains"]
    assert plain["tool_raises_to_user"].output != "no error"
    assert plain["unknown_tool"].output.startswith("model misbehaved")
    assert all(seen.requests for name, seen in plain.items()), "every program asks the model"


CONCURRENT = {"gathered"}
"""Programs whose agents run at once (``asyncio.gather``): their requests interleave by the
provider's timing, plainly too (durably the runs go one after another), so each agent's requests
are compared in order, not the interleaving."""


REBUILT = {"instructions"}
"""Effects of the code the SDK calls to build a model request (dynamic instructions): a replay builds
the request again, so it runs again (docs/replay.md); the journaled answer keeps the run the same."""


def once(effects: list[str]) -> list[str]:
    return [effect for effect in effects if effect not in REBUILT]


def compared(name: str, requests: list[Request]) -> Any:
    if name not in CONCURRENT:
        return requests
    found: dict[str, list[int]] = defaultdict(list)
    for tag, length in requests:
        found[tag].append(length)
    return dict(found)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_durable_run_equals_the_plain_run(
    plain: Campaign, durable: Callable[[str], Campaign], mode: str, name: str
) -> None:
    expected, seen = plain[name], durable(mode)[name]
    assert seen.output == expected.output
    # each tool body, hook and guardrail as often as plainly
    assert once(seen.effects) == once(expected.effects)
    assert set(seen.effects) == set(expected.effects)
    assert len(seen.requests) == len(expected.requests) + (mode == "kill")
    if mode == "kill":  # the request open at the kill is sent again, no other
        in_order = durable("normal")[name].requests
        assert compared(name, seen.requests) == compared(name, kill_requests(in_order, hold_points(plain)[name]))
    else:
        assert compared(name, seen.requests) == compared(name, expected.requests)
