"""What every review surface (rich `show`, Markdown, HTML) needs to know about a run.

`RunView` joins a transcript with its evaluation (when present) and the persona pack (when it
loads): who is private, what a speaker is called, which verdicts belong to which turn, and what
the source says happened. The pack is optional: a transcript and its evaluation alone are
enough to review a run, because a verdict carries its own evidence quote.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.errors import ImpasseError
from harness.eval.model import Evaluation, Verdict
from harness.pack.models import PersonaPack
from harness.transcript.model import Transcript, Turn
from harness.transcript.turns_jsonl import is_public_speech

SIDE_NAMES = {"us": "U.S.", "cn": "China"}


def is_private(turn: Turn) -> bool:
    """Caucus turns and anything not heard by both sides (e.g. a principal's directive)."""
    return turn.phase == "caucus" or turn.audience != "public"


def audience_label(turn: Turn) -> str:
    if turn.audience == "public":
        return "public"
    side = SIDE_NAMES.get(turn.audience, turn.audience)
    if turn.phase == "principal" or turn.directive_to:
        return f"directive to {SIDE_NAMES.get(turn.directive_to or turn.audience, turn.audience)}"
    return f"{side} only"


def try_load_pack(pack_id: str) -> PersonaPack | None:
    """The pack for names and evidence, or None when it is not installed or does not load."""
    try:
        from harness.pack.load import load_pack  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    try:
        return load_pack(pack_id)  # type: ignore[no-any-return,unused-ignore]
    except (ImpasseError, OSError, KeyError, ValueError):
        return None


@dataclass
class RunView:
    transcript: Transcript
    evaluation: Evaluation | None = None
    pack: PersonaPack | None = None
    _verdicts: dict[int, list[Verdict]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self._verdicts = _map_verdicts(self.transcript, self.evaluation)

    # --- people ----------------------------------------------------------------------------

    def name(self, speaker: str) -> str:
        if speaker == "event":
            return "Event"
        if self.pack and speaker in self.pack.personas:
            return self.pack.personas[speaker].name
        return speaker

    def title(self, speaker: str) -> str | None:
        if self.pack and speaker in self.pack.personas:
            return self.pack.personas[speaker].title
        return None

    def scenario_title(self) -> str:
        meta = self.transcript.meta
        if self.pack and meta.scenario_id in self.pack.scenarios:
            return self.pack.scenarios[meta.scenario_id].title
        return meta.scenario_id

    # --- verdicts --------------------------------------------------------------------------

    def verdicts(self, turn_index: int) -> list[Verdict]:
        """Verdicts on the turn at `turn_index` in `transcript.turns`."""
        return self._verdicts.get(turn_index, [])

    def violations(self, turn_index: int) -> list[Verdict]:
        return [v for v in self.verdicts(turn_index) if v.verdict == "violated"]

    def evidence(self, verdict: Verdict) -> str:
        """The ledger's evidence quote: from the verdict, else from the pack."""
        if verdict.evidence:
            return verdict.evidence
        if self.pack:
            try:
                entry = self.pack.entry(verdict.entry)
            except KeyError:
                return ""
            return entry.evidence[0].quote if entry.evidence else ""
        return ""

    # --- outcome ---------------------------------------------------------------------------

    def documented_outcome(self) -> tuple[str | None, bool | None, str | None]:
        """(result, talks_continue, summary) the source documents, when known."""
        result = talks = summary = None
        if self.evaluation is not None:
            result = self.evaluation.run.documented_outcome
            talks = self.evaluation.run.documented_talks_continue
        if self.pack:
            scenario = self.pack.scenarios.get(self.transcript.meta.scenario_id)
            if scenario and scenario.documented_outcome:
                doc = scenario.documented_outcome
                result = result or doc.result
                talks = doc.talks_continue if talks is None else talks
                summary = doc.summary
        return result, talks, summary

    def fidelity_by_round(self) -> dict[str, dict[int, float]]:
        if self.evaluation is None:
            return {}
        return {
            pid: dict(sorted(score.fidelity_by_round.items()))
            for pid, score in self.evaluation.personas.items()
            if score.fidelity_by_round
        }

    def side_of(self, speaker: str) -> str | None:
        for turn in self.transcript.turns:
            if turn.speaker == speaker:
                return turn.side
        if self.pack and speaker in self.pack.personas:
            return self.pack.personas[speaker].side
        return None


def _map_verdicts(
    transcript: Transcript, evaluation: Evaluation | None
) -> dict[int, list[Verdict]]:
    """Attach each TurnVerdicts to a transcript turn: by turn id, else by position.

    An evaluation of a stored run names turn ids. One made from the plain JSONL export only has
    positions among the public turns, so a position is tried against that list first and then
    against all turns, and kept only where the speaker agrees.
    """
    if evaluation is None:
        return {}
    by_id = {t.id: i for i, t in enumerate(transcript.turns)}
    public = [i for i, t in enumerate(transcript.turns) if is_public_speech(t)]
    mapped: dict[int, list[Verdict]] = {}
    for item in evaluation.turns:
        index: int | None = by_id.get(item.turn_id) if item.turn_id else None
        if index is None:
            for candidates in (public, list(range(len(transcript.turns)))):
                if 0 <= item.index < len(candidates):
                    guess = candidates[item.index]
                    if transcript.turns[guess].speaker == item.speaker:
                        index = guess
                        break
        if index is not None:
            mapped.setdefault(index, []).extend(item.verdicts)
    return mapped
