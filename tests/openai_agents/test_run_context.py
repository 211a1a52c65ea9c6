"""What a journaled tool changes in the user's run context is read as JSON and set again on replay."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from pydantic import BaseModel

from integrations.openai_agents._run_context import changed_state, context_state, restore_state


@dataclass
class Order:
    item: str
    quantity: int


@dataclass
class Shop:
    customer: str
    orders: list[Order] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)  # equipment, not state


class Profile(BaseModel):
    name: str
    visits: int = 0


def test_a_change_is_found_and_restored_with_its_annotated_type() -> None:
    shop = Shop("ada")
    before = context_state(shop)
    shop.orders.append(Order("tea", 2))
    changes = changed_state(before, context_state(shop))
    assert changes == {"orders": [{"item": "tea", "quantity": 2}]}  # the lock is not state

    replayed = Shop("ada")  # a replay: the handler built a fresh context, the tool body does not run
    restore_state(replayed, changes)
    assert replayed.orders == [Order("tea", 2)]


def test_an_unchanged_context_journals_nothing() -> None:
    shop = Shop("ada", [Order("cake", 1)])
    assert changed_state(context_state(shop), context_state(shop)) == {}


def test_pydantic_models_dicts_and_plain_objects_are_contexts_too() -> None:
    profile = Profile(name="ada")
    before = context_state(profile)
    profile.visits += 1
    fresh = Profile(name="ada")
    restore_state(fresh, changed_state(before, context_state(profile)))
    assert fresh.visits == 1

    settings: dict[str, object] = {"mode": "fast"}
    before = context_state(settings)
    settings["mode"] = "careful"
    fresh_settings: dict[str, object] = {"mode": "fast"}
    restore_state(fresh_settings, changed_state(before, context_state(settings)))
    assert fresh_settings == {"mode": "careful"}

    class Bag:
        def __init__(self) -> None:
            self.items: list[str] = []

    bag = Bag()
    before = context_state(bag)
    bag.items.append("pen")
    fresh_bag = Bag()
    restore_state(fresh_bag, changed_state(before, context_state(bag)))
    assert fresh_bag.items == ["pen"]


def test_contexts_without_state_are_left_alone() -> None:
    assert context_state(None) is None
    assert context_state("a string") is None
    assert changed_state(None, None) == {}
