"""The negotiation engine driven by puppets through the real graph and a real SQLite checkpoint."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from harness.errors import EndpointError
from harness.graph.runner import RunRequest, fork_run, resume_run, run_scenario
from harness.graph.turn_order import schedule_round
from harness.pack.load import load_pack
from harness.transcript.store import RunStore
from tests.puppet import Cue, PuppetModels, default_script

PACK = "us-china-2019"


@pytest.fixture(scope="module")
def pack():
    return load_pack(PACK)


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path / "transcripts")


def run(request: RunRequest, models: PuppetModels, store: RunStore, **kw):
    return asyncio.run(run_scenario(request, models, store=store, **kw))


def scripted(table_moves):
    """A script where table turns come from `table_moves(cue)` (None: default)."""

    def script(cue: Cue):
        reply = default_script(cue)
        if cue.phase == "table":
            extra = table_moves(cue)
            if extra:
                reply.update(extra)
        return reply

    return script


def test_full_run_of_every_scenario_saves_a_valid_transcript(pack, store):
    for scenario_id, scenario in pack.scenarios.items():
        models = PuppetModels()
        transcript = run(RunRequest(scenario=scenario_id, rounds=2), models, store)
        assert transcript.status == "complete"
        assert transcript.outcome is not None and transcript.outcome.result == "no_deal"
        assert transcript.outcome.ended_round == 2
        expected = [len(schedule_round(scenario, pack, r, [])) for r in (1, 2)]
        assert [sum(1 for t in transcript.turns if t.round == r) for r in (1, 2)] == expected
        ids = [t.id for t in transcript.turns]
        assert len(ids) == len(set(ids))
        assert [s.round for s in transcript.clauses] == [1, 2]
        reloaded = store.load_transcript(transcript.meta.run_id)
        assert reloaded == transcript
        assert transcript.meta.pack_hash == pack.content_hash
        assert transcript.meta.source_sha256 == pack.source.sha256
        prompts = store.load_prompts(transcript.meta.run_id)
        assert all(t.prompt_hash in prompts for t in transcript.turns if t.phase != "event")


def test_washington_round_has_phases_in_order_and_the_tariff_event(pack, store):
    transcript = run(RunRequest(scenario="washington-2019-05", rounds=2), PuppetModels(), store)
    order = {"caucus": 0, "table": 1, "principal": 2, "event": 3}
    for r in (1, 2):
        phases = [order[t.phase] for t in transcript.turns if t.round == r]
        assert phases == sorted(phases)
    table = [t for t in transcript.turns if t.round == 1 and t.phase == "table"]
    assert table[0].side == "us" and table[1].side == "cn"  # sides alternate, US opens
    assert table[0].speaker == "lighthizer" and table[1].speaker == "liu_he"  # leads first
    events = [t for t in transcript.turns if t.phase == "event"]
    scenario = pack.scenarios["washington-2019-05"]
    assert [e.utterance for e in events] == [
        e.text.strip() for e in scenario.events if e.round <= 2
    ]


def test_walk_out_ends_in_breakdown(store):
    def moves(cue: Cue):
        if cue.persona == "liu_he" and cue.round == 2:
            return {"action": "walk_out", "utterance": "We are leaving."}
        return None

    transcript = run(
        RunRequest(scenario="washington-2019-05"), PuppetModels(scripted(moves)), store
    )
    assert transcript.outcome.result == "breakdown"
    assert transcript.outcome.talks_continue is False
    assert transcript.outcome.ended_round == 2
    assert transcript.turns[-1].speaker == "liu_he"


def deal_stances(agenda: list[str], speaker: str, round_no: int) -> list[dict] | None:
    """A deal in two rounds, at most three issues a turn: the U.S. proposes, China accepts."""
    first, rest = agenda[:3], agenda[3:]
    if round_no == 1 and speaker == "lighthizer":
        return [{"issue": i, "stance": "proposes", "proposal": f"text on {i}"} for i in first]
    if round_no == 1 and speaker == "mnuchin":
        return [{"issue": i, "stance": "proposes", "proposal": f"text on {i}"} for i in rest]
    if speaker == "liu_he":
        return [{"issue": i, "stance": "accepts"} for i in (first if round_no == 1 else rest)]
    return None


def test_every_clause_agreed_ends_in_a_deal(pack, store):
    agenda = pack.scenarios["washington-2019-05"].agenda

    def moves(cue: Cue):
        stances = deal_stances(agenda, cue.persona, cue.round)
        return {"stances": stances} if stances else None

    transcript = run(
        RunRequest(scenario="washington-2019-05"), PuppetModels(scripted(moves)), store
    )
    assert transcript.outcome.result == "deal"
    assert transcript.outcome.ended_round == 2
    assert transcript.turns[-1].speaker == "liu_he"
    assert all(c.status == "agreed" for c in transcript.clauses[-1].clauses)


def test_reopening_an_agreed_clause_is_recorded_as_backtracking(store):
    def moves(cue: Cue):
        if cue.round == 1 and cue.persona == "lighthizer":
            return {
                "stances": [{"issue": "enforcement", "stance": "proposes", "proposal": "US judges"}]
            }
        if cue.round == 1 and cue.persona == "liu_he":
            return {"stances": [{"issue": "enforcement", "stance": "accepts"}]}
        if cue.round == 2 and cue.persona == "liu_he":
            return {"stances": [{"issue": "enforcement", "stance": "rejects"}]}
        return None

    transcript = run(
        RunRequest(scenario="washington-2019-05", rounds=3), PuppetModels(scripted(moves)), store
    )
    statuses = [{c.issue: c.status for c in s.clauses}["enforcement"] for s in transcript.clauses]
    assert statuses == ["agreed", "reopened", "reopened"]
    assert len(transcript.backtracking) == 1
    back = transcript.backtracking[0]
    assert (back.issue, back.round, back.speaker) == ("enforcement", 2, "liu_he")
    assert any(t.id == back.turn_id and t.speaker == "liu_he" for t in transcript.turns)


def test_no_prompt_holds_the_other_sides_private_channel(pack, store):
    models = PuppetModels()
    transcript = run(RunRequest(scenario="washington-2019-05", rounds=3), models, store)
    scenario = pack.scenarios["washington-2019-05"]
    for side, other in (("us", "cn"), ("cn", "us")):
        secrets = [
            t.utterance for t in transcript.turns if t.audience == other and t.phase != "event"
        ]
        secrets += [t.move.rationale for t in transcript.turns if t.move and t.side == other]
        secrets.append(scenario.private_briefs[other].strip())
        assert secrets
        for cue in models.cues:
            if cue.side != side:
                continue
            prompt = "\n".join(m.content for m in cue.messages)
            for secret in secrets:
                assert secret not in prompt, (cue.persona, secret)
    # and the own side's caucus does reach its members
    us_caucus = [t.utterance for t in transcript.turns if t.phase == "caucus" and t.side == "us"]
    later_us_prompts = [c for c in models.cues if c.side == "us" and c.round == 2]
    assert us_caucus and any(
        us_caucus[0] in "\n".join(m.content for m in c.messages) for c in later_us_prompts
    )


def test_rationales_never_enter_any_prompt(store):
    models = PuppetModels()
    transcript = run(RunRequest(scenario="washington-2019-05", rounds=2), models, store)
    rationale = transcript.turns[0].move.rationale
    assert all(rationale not in m.content for c in models.cues for m in c.messages)


def test_prompt_size_stops_growing_after_the_summary_window(store):
    models = PuppetModels()
    run(RunRequest(scenario="washington-2019-05", rounds=12, summary_window=2), models, store)
    sizes = {}
    for cue in models.cues:
        if cue.persona == "lighthizer" and cue.phase == "table":
            sizes[cue.round] = sum(len(m.content) for m in cue.messages)
    assert sizes[6] > sizes[1]
    # past the window, size is flat (only digits of round numbers change)
    assert abs(sizes[12] - sizes[6]) < 60
    assert abs(sizes[9] - sizes[6]) < 60


def test_endpoint_failure_keeps_the_checkpoint_and_resume_finishes_with_the_same_turns(
    store, tmp_path
):
    reference = run(
        RunRequest(scenario="washington-2019-05", rounds=3),
        PuppetModels(),
        RunStore(tmp_path / "ref"),
    )
    failing = PuppetModels(fail_after=13, failure=EndpointError("endpoint down"))
    with pytest.raises(EndpointError, match="impasse resume"):
        run(RunRequest(scenario="washington-2019-05", rounds=3), failing, store)
    (run_id,) = [p.name for p in store.root.iterdir()]
    stopped = store.load_transcript(run_id)
    assert stopped.status == "error" and "endpoint down" in stopped.error
    assert len(stopped.turns) >= 12
    healed = PuppetModels()
    finished = asyncio.run(resume_run(run_id[:12], healed, store=store))
    assert finished.status == "complete"
    assert [t.id for t in finished.turns] == [t.id for t in reference.turns]
    assert [t.utterance for t in finished.turns] == [t.utterance for t in reference.turns]
    # the resumed process asked only for the turns that were missing
    assert len(healed.cues) == sum(1 for t in reference.turns if t.phase != "event") - len(
        [t for t in stopped.turns if t.phase != "event"]
    )


def test_fork_branches_from_the_parent_after_round_k(store):
    parent = run(RunRequest(scenario="washington-2019-05", rounds=3), PuppetModels(), store)
    child = asyncio.run(
        fork_run(
            parent.meta.run_id,
            1,
            PuppetModels(),
            store=store,
            event_text="Beijing announces retaliatory tariffs.",
        )
    )
    assert child.meta.parent_run == parent.meta.run_id and child.meta.fork_round == 1
    assert child.meta.run_id != parent.meta.run_id
    parent_r1 = [t for t in parent.turns if t.round == 1]
    assert [t for t in child.turns if t.round == 1] == parent_r1
    injected = [t for t in child.turns if t.round == 2 and t.phase == "event"]
    assert any(t.utterance == "Beijing announces retaliatory tariffs." for t in injected)
    assert child.outcome.ended_round == 3
    # the parent is untouched
    assert store.load_transcript(parent.meta.run_id) == parent


def test_fork_with_a_persona_variant_changes_the_prompt(pack, store, tmp_path):
    parent = run(RunRequest(scenario="washington-2019-05", rounds=2), PuppetModels(), store)
    variant = pack.personas["liu_he"].model_copy(update={"goals": ["Sign a deal at any price."]})
    path = tmp_path / "liu_soft.yaml"
    import yaml

    path.write_text(yaml.safe_dump(variant.model_dump(mode="json")), encoding="utf-8")
    models = PuppetModels()
    asyncio.run(
        fork_run(parent.meta.run_id, 1, models, store=store, persona_files={"liu_he": str(path)})
    )
    assert any("Sign a deal at any price." in p for p in models.prompts_of("liu_he"))


def test_resuming_a_finished_run_changes_nothing(store):
    done = run(RunRequest(scenario="washington-2019-05", rounds=2), PuppetModels(), store)
    models = PuppetModels()
    again = asyncio.run(resume_run(done.meta.run_id, models, store=store))
    assert not models.cues
    assert [t.id for t in again.turns] == [t.id for t in done.turns]


def test_a_break_ends_the_table_session_once_every_side_has_spoken(store):
    def moves(cue: Cue):
        if cue.persona == "lighthizer" and cue.round == 1:
            return {"action": "request_break"}
        return None

    transcript = run(
        RunRequest(scenario="washington-2019-05", rounds=2), PuppetModels(scripted(moves)), store
    )
    table_r1 = [t.speaker for t in transcript.turns if t.round == 1 and t.phase == "table"]
    assert table_r1 == ["lighthizer", "liu_he"]  # China still answers; Mnuchin's turn is cut
    table_r2 = [t.speaker for t in transcript.turns if t.round == 2 and t.phase == "table"]
    assert table_r2 == ["lighthizer", "liu_he", "mnuchin"]  # the next round starts afresh
    assert any(t.phase == "principal" for t in transcript.turns if t.round == 1)


def test_each_closed_round_gets_a_public_one_line_summary(store):
    def moves(cue: Cue):
        if cue.persona == "lighthizer" and cue.round == 1:
            return {
                "stances": [{"issue": "enforcement", "stance": "proposes", "proposal": "US judges"}]
            }
        return None

    transcript = run(
        RunRequest(scenario="washington-2019-05", rounds=2), PuppetModels(scripted(moves)), store
    )
    assert sorted(transcript.summaries) == [1, 2]
    first = transcript.summaries[1]
    assert first.startswith("Round 1: ") and "bracketed: enforcement" in first
    private = [t.utterance for t in transcript.turns if t.audience != "public"]
    assert not any(text in first for text in private)


def test_an_invalid_reply_gets_one_fresh_sample_then_the_run_goes_on(store):
    from harness.llm.errors import StructuredOutputError

    failures = {"left": 1}
    seeds: list[int | None] = []

    class Flaky(PuppetModels):
        def for_speaker(self, persona_id, side):
            chat = super().for_speaker(persona_id, side)
            if persona_id != "xi":
                return chat

            class Once:
                async def structured(self, messages, schema, **kw):
                    seeds.append(kw.get("seed"))
                    if failures["left"]:
                        failures["left"] -= 1
                        raise StructuredOutputError(
                            model="m", schema=schema.__name__, problem="reply cut off", raw="28.28"
                        )
                    return await chat.structured(messages, schema, **kw)

            return Once()

    transcript = run(RunRequest(scenario="washington-2019-05", rounds=1, seed=5), Flaky(), store)
    assert transcript.status == "complete"
    assert [t.speaker for t in transcript.turns].count("xi") == 1
    assert seeds == [5, 5 + 7919]
