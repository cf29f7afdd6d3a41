"""Who speaks when. Decided by code from the scenario's turn policy, never by a model.

A round is: a private caucus per delegation (when the policy has one), the table session
(sides alternate, lead negotiator first, then the others), the principals' interventions,
then the scripted events due this round.
"""

from __future__ import annotations

from itertools import zip_longest

from harness.graph.state import Slot
from harness.pack.models import SIDES, PersonaPack, Scenario, ScriptedEvent, Side

# Lower sorts first: the lead negotiator opens for a side.
ROLE_ORDER = {
    "lead_negotiator": 0,
    "negotiator": 1,
    "adviser": 2,
    "spokesperson": 3,
    "principal": 4,
}


def sides_present(scenario: Scenario, pack: PersonaPack) -> list[Side]:
    """Sides with someone at the table, the first side of the policy first."""
    present = {pack.personas[p.persona].side for p in scenario.participants if p.seat == "table"}
    first = scenario.turn_policy.first_side
    order = [first, *(s for s in SIDES if s != first)]
    return [s for s in order if s in present]


def _ordered(ids: list[str], pack: PersonaPack) -> list[str]:
    # Stable: among equal roles, the scenario's listing order decides.
    return sorted(ids, key=lambda pid: ROLE_ORDER[pack.personas[pid].role])


def seated(scenario: Scenario, pack: PersonaPack, side: Side, *seats: str) -> list[str]:
    ids = [
        p.persona
        for p in scenario.participants
        if p.seat in seats and pack.personas[p.persona].side == side
    ]
    return _ordered(ids, pack)


def caucus_members(scenario: Scenario, pack: PersonaPack, side: Side) -> list[str]:
    seats = ["table", "caucus"]
    if scenario.turn_policy.principals_in_caucus:
        seats.append("principal")
    return seated(scenario, pack, side, *seats)


def table_order(scenario: Scenario, pack: PersonaPack) -> list[str]:
    """Alternate sides seat by seat: lead of the first side, lead of the other, and so on."""
    columns = [seated(scenario, pack, side, "table") for side in sides_present(scenario, pack)]
    order: list[str] = []
    for row in zip_longest(*columns):
        order.extend(pid for pid in row if pid is not None)
    return order * scenario.turn_policy.table_passes


def events_due(
    scenario: Scenario, extra: list[ScriptedEvent], round_no: int
) -> list[ScriptedEvent]:
    return [e for e in [*scenario.events, *extra] if e.round == round_no]


def schedule_round(
    scenario: Scenario, pack: PersonaPack, round_no: int, extra_events: list[ScriptedEvent]
) -> list[Slot]:
    """Every step of round `round_no`, in order."""
    policy = scenario.turn_policy
    sides = sides_present(scenario, pack)
    single_side = len(sides) == 1
    slots: list[Slot] = []
    if policy.caucus and not single_side:
        for side in sides:
            members = caucus_members(scenario, pack, side)
            if len(members) > 1:
                slots.extend(Slot(phase="caucus", speaker=pid, audience=side) for pid in members)
    table_audience = sides[0] if single_side else "public"
    slots.extend(
        Slot(phase="table", speaker=pid, audience=table_audience)
        for pid in table_order(scenario, pack)
    )
    if policy.principal_interventions:
        for side in SIDES:
            for pid in seated(scenario, pack, side, "principal"):
                # The audience is provisional: the principal chooses directive or public.
                slots.append(Slot(phase="principal", speaker=pid, audience="public"))
    slots.extend(
        Slot(phase="event", speaker="event", audience=e.audience, event_id=e.id)
        for e in events_due(scenario, extra_events, round_no)
    )
    return slots
