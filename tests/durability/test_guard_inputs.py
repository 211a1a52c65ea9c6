"""``guard_inputs`` without a server: what each kind of body turns into, as the SDK would call the
handler (``input_serde.deserialize`` then ``fn``)."""

from __future__ import annotations

import asyncio
from typing import Any, Optional

import pytest
import restate
from pydantic import BaseModel
from restate.handler import Handler

from integrations.inputs import GUARD_INPUTS_ENV, MAX_INPUT_BYTES_ENV, guard_every_app, guard_inputs, max_input_bytes


class Defaults(BaseModel):
    message: str = "hello"


class Claim(BaseModel):
    amount: float


service = restate.Service("Guarded")


@service.handler()
async def with_defaults(ctx: restate.Context, request: Defaults) -> str:
    return request.message


@service.handler()
async def with_required(ctx: restate.Context, claim: Claim) -> float:
    return claim.amount


@service.handler()
async def plain_text(ctx: restate.Context, text: str) -> str:
    return text


@service.handler()
async def optional_claim(ctx: restate.Context, claim: Optional[Claim] = None) -> str:  # noqa: UP045 - as users write it
    return "none" if claim is None else str(claim.amount)


@service.handler()
async def numbers(ctx: restate.Context, values: list[int]) -> int:
    return sum(values)


@service.handler()
async def no_input(ctx: restate.Context) -> str:
    return "ok"


guard_inputs(guard_inputs([service], max_bytes=1000))  # twice: the second call changes nothing


def invoke(handler: str, body: bytes) -> Any:
    return run_handler(service.handlers[handler], body)


def run_handler(handler: Handler[Any, Any], body: bytes) -> Any:
    """Call the handler's function as the SDK does, with ``body`` decoded by its input serde (no context)."""

    async def call() -> Any:
        return await handler.fn(None, handler.handler_io.input_serde.deserialize(body))  # type: ignore[call-arg]

    return asyncio.run(call())


def refusal(handler: str, body: bytes) -> restate.TerminalError:
    with pytest.raises(restate.TerminalError) as failure:
        invoke(handler, body)
    return failure.value


def test_good_bodies_reach_the_handler() -> None:
    assert invoke("with_defaults", b'{"message": "hi"}') == "hi"
    assert invoke("with_required", b'{"amount": 3000}') == 3000
    assert invoke("plain_text", b'"hi"') == "hi"
    assert invoke("optional_claim", b'{"amount": 1}') == "1.0"


def test_an_empty_body_reads_as_an_empty_object_for_a_model_and_none_when_optional() -> None:
    assert invoke("with_defaults", b"") == "hello"
    failure = refusal("with_required", b"")
    assert failure.status_code == 400 and "Field required" in failure.message and "amount" in failure.message
    assert invoke("optional_claim", b"") == "none"
    failure = refusal("plain_text", b"")
    assert failure.status_code == 400 and failure.message == (
        "Guarded/plain_text: the request has no body; expected JSON of type str"
    )


@pytest.mark.parametrize("body", [b'{"message": ', b"42", b'{"message": {"x": 1}}', b"null"])
def test_malformed_or_mistyped_bodies_are_refused_with_400_naming_handler_and_problem(body: bytes) -> None:
    failure = refusal("with_defaults", body)
    assert failure.status_code == 400
    assert failure.message.startswith("Guarded/with_defaults: invalid request body: ")
    assert "validation error for Defaults" in failure.message


def test_a_body_over_the_limit_is_refused_with_413_before_it_is_parsed() -> None:
    failure = refusal("with_defaults", b'{"message": "' + b"x" * 1000 + b'"}')
    assert failure.status_code == 413
    assert "1,015 bytes, more than the 1,000" in failure.message and MAX_INPUT_BYTES_ENV in failure.message
    assert invoke("with_defaults", b'{"message": "' + b"x" * 980 + b'"}') == "x" * 980


def test_callers_still_encode_with_the_handlers_own_serde() -> None:
    serde = service.handlers["with_required"].handler_io.input_serde
    assert serde.serialize(Claim(amount=2)) == b'{"amount":2.0}'


def test_handlers_without_input_are_left_alone() -> None:
    assert service.handlers["no_input"].fn is no_input
    assert service.handlers["with_defaults"].fn is not with_defaults


def test_the_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert max_input_bytes() == 1024 * 1024
    monkeypatch.setenv(MAX_INPUT_BYTES_ENV, "2048")
    assert max_input_bytes() == 2048
    monkeypatch.setenv(MAX_INPUT_BYTES_ENV, "lots")
    with pytest.raises(ValueError, match="number of bytes"):
        max_input_bytes()


@pytest.mark.parametrize(
    ("handler", "body", "expected"),
    [("plain_text", b"42", "str"), ("plain_text", b'{"text": "hi"}', "str"), ("numbers", b'["a"]', "list")],
)
def test_a_body_of_another_json_type_than_the_annotation_is_refused(handler: str, body: bytes, expected: str) -> None:
    error = refusal(handler, body)
    assert error.status_code == 400
    assert f"Guarded/{handler}: invalid request body: expected JSON of type {expected}" in error.message


def test_json_of_the_annotated_type_passes_the_type_check() -> None:
    assert invoke("plain_text", b'"hi"') == "hi"
    assert invoke("numbers", b"[1, 2]") == 3


def test_the_serve_command_guards_apps_that_do_not_guard_themselves(monkeypatch: pytest.MonkeyPatch) -> None:
    from restate.endpoint import Endpoint

    monkeypatch.setattr(Endpoint, "bind", Endpoint.bind)  # undone after the test
    assert guard_every_app()
    unguarded = restate.Service("Unguarded")

    @unguarded.handler()
    async def echo(ctx: restate.Context, text: str) -> str:
        return text

    restate.app([unguarded])  # as a user writes it
    handler = unguarded.handlers["echo"]
    with pytest.raises(restate.TerminalError) as failure:
        run_handler(handler, b"42")
    assert failure.value.status_code == 400


def test_the_default_guard_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from restate.endpoint import Endpoint

    monkeypatch.setattr(Endpoint, "bind", Endpoint.bind)
    monkeypatch.setenv(GUARD_INPUTS_ENV, "0")
    assert not guard_every_app()
    assert not getattr(Endpoint.bind, "_durable_agents_guarded", False)
