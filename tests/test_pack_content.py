"""The shipped pack `us-china-2019`: it loads, its ids resolve, and it has what the issue asks."""

from __future__ import annotations

from collections import Counter

import pytest

from harness.pack.load import load_pack
from harness.pack.models import MIN_RED_LINE_EXAMPLES, PersonaPack
from harness.pack.validate import validate_pack

PERSONA_IDS = {
    "trump",
    "xi",
    "liu_he",
    "lighthizer",
    "mnuchin",
    "kudlow",
    "liao_min",
    "wang_shouwen",
}
ISSUE_KEYS = {
    "tariff_removal", "legal_changes", "text_publication", "enforcement", "retaliation_pledge",
    "tariff_escalation", "negotiating_under_threat", "sovereignty_dignity", "appear_soft",
    "ip_theft", "market_access", "reneging", "talks_continuity", "signing_summit",
    "markets_economy",
}  # fmt: skip
RED_LINES = {
    "cn.legal_changes.no_law_change": ("cn", "legal_changes"),
    "cn.text_publication.summary_only": ("cn", "text_publication"),
    "cn.enforcement.domestic_channels": ("cn", "enforcement"),
    "cn.sovereignty_dignity.no_concession_on_principle": ("cn", "sovereignty_dignity"),
    "us.tariff_removal.not_on_signing": ("us", "tariff_removal"),
    "us.retaliation_pledge.required": ("us", "retaliation_pledge"),
    "us.enforcement.domestic_not_credible": ("us", "enforcement"),
    "trump.appear_soft.never_soft": ("trump", "appear_soft"),
}


@pytest.fixture(scope="module")
def pack() -> PersonaPack:
    return load_pack("us-china-2019")


def test_the_pack_validates_without_problems() -> None:
    assert [str(p) for p in validate_pack("us-china-2019")] == []


def test_personas_issues_and_scenarios_are_the_documented_ones(pack: PersonaPack) -> None:
    assert set(pack.personas) == PERSONA_IDS
    assert ISSUE_KEYS <= set(pack.issues)
    assert set(pack.scenarios) == {
        "washington-2019-05", "beijing-deliberation-2019-05", "osaka-g20-2019-06",
    }  # fmt: skip


def test_ledger_is_large_enough_and_every_issue_has_an_entry(pack: PersonaPack) -> None:
    assert len(pack.ledger) >= 40
    assert {e.issue for e in pack.ledger} == set(pack.issues)
    assert len({e.id for e in pack.ledger}) == len(pack.ledger)


def test_required_red_lines_exist_with_their_holder_and_issue(pack: PersonaPack) -> None:
    for entry_id, (holder, issue) in RED_LINES.items():
        entry = pack.entry(entry_id)
        assert (entry.kind, entry.holder, entry.issue) == ("red_line", holder, issue), entry_id


def test_exactly_one_red_line_per_side_and_issue(pack: PersonaPack) -> None:
    keys = Counter((pack.side_of(e.holder), e.issue) for e in pack.red_lines())
    assert keys and max(keys.values()) == 1


def test_every_red_line_has_severity_and_examples(pack: PersonaPack) -> None:
    for entry in pack.red_lines():
        assert entry.severity is not None
        assert len(entry.complies) >= MIN_RED_LINE_EXAMPLES, entry.id
        assert len(entry.violates) >= MIN_RED_LINE_EXAMPLES, entry.id
        assert not set(entry.complies) & set(entry.violates), entry.id


def test_every_cross_reference_resolves(pack: PersonaPack) -> None:
    entry_ids = {e.id for e in pack.ledger}
    for entry in pack.ledger:
        assert entry.holder in pack.personas or entry.holder in ("us", "cn")
        assert entry.issue in pack.issues
    for persona in pack.personas.values():
        assert set(persona.holds) <= entry_ids, persona.id
        for claim in persona.background + persona.private_knowledge:
            assert set(claim.cites) <= entry_ids, claim.text
        assert all(pack.side_of(pack.entry(e).holder) == persona.side for e in persona.holds)
    for scenario in pack.scenarios.values():
        assert {p.persona for p in scenario.participants} <= set(pack.personas)
        assert set(scenario.agenda) <= set(pack.issues)
        for event in scenario.events:
            assert set(event.cites) <= entry_ids


def test_every_persona_is_grounded(pack: PersonaPack) -> None:
    for persona in pack.personas.values():
        assert persona.background and persona.holds and persona.voice, persona.id
        # What the article attributes to a person is held by that person.
        own = {e.id for e in pack.ledger if e.holder == persona.id}
        assert own <= set(persona.holds), persona.id


def test_washington_round_matches_the_documented_set_up(pack: PersonaPack) -> None:
    scenario = pack.scenarios["washington-2019-05"]
    seats = {p.persona: p.seat for p in scenario.participants}
    assert {k for k, v in seats.items() if v == "table"} == {"lighthizer", "mnuchin", "liu_he"}
    assert seats["trump"] == seats["xi"] == "principal"
    assert scenario.max_rounds == 4 and scenario.turn_policy.first_side == "us"
    assert any(e.round == 2 and "took_effect" in " ".join(e.cites) for e in scenario.events)
    outcome = scenario.documented_outcome
    assert outcome is not None and outcome.result == "no_deal" and outcome.talks_continue


def test_beijing_deliberation_is_single_sided_and_decides_to_go(pack: PersonaPack) -> None:
    scenario = pack.scenarios["beijing-deliberation-2019-05"]
    assert {pack.personas[p.persona].side for p in scenario.participants} == {"cn"}
    outcome = scenario.documented_outcome
    assert outcome is not None and outcome.result is None and outcome.talks_continue
    assert "keep the talks going" in (outcome.decision or "")


def test_osaka_has_no_documented_outcome(pack: PersonaPack) -> None:
    scenario = pack.scenarios["osaka-g20-2019-06"]
    assert scenario.documented_outcome is None
    assert {p.persona for p in scenario.participants if p.seat == "table"} == {"trump", "xi"}
