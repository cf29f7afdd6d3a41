"""Turn-by-turn fidelity verdicts: the three layers put together, and the public API.

Offline, layer 1 (rules) decides the clear cases and layer 2 (statistics) the rest; with a
judge model configured, layer 3 (the LLM judge) re-reads every entry the offline layers found
touched. A verdict always carries a quote that is a verbatim substring of the turn: one that is
not is turned into `ambiguous`, never kept silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from harness.errors import EvalError
from harness.eval import text as tx
from harness.eval.model import Evaluation, Layer, TurnVerdicts, Verdict, VerdictLabel
from harness.eval.rules import TurnReading, read_turn
from harness.eval.ruleset import Ruleset, load_ruleset
from harness.eval.scores import persona_scores, run_score
from harness.eval.statistical import StatModel, instance, model_for
from harness.pack.models import LedgerEntry, PersonaPack
from harness.transcript.model import Transcript

EVALUATOR_VERSION = "1.16.0"
# 1.1: concept x speech-act features, train_extra, thresholds.
# 1.2: conditionals (an own-side offer in the consequent is a commitment; an act only supposed in
#      the antecedent is not, unless the consequent accepts or refuses it), instruction frames
#      ("tell them we will ...", a principal's "you may ..."), answered rhetorical questions,
#      reporters other than the other side, broader lexicons for the weak lines, train_extra2.
# 1.3: 650 more training turns (train_extra3, train_extra4: paraphrase-heavy turns and minimal
#      pairs by writers who never saw dev, holdout or the evaluator); thresholds re-chosen by CV.
# 1.4: 520 more such turns (train_extra5: long multi-topic turns, minimal pairs, principals,
#      tweets, injections); thresholds re-chosen by CV with the same rule.
# 1.5: 520 more (train_extra6: compliant near-misses, state-of-play summaries, the weakest
#      lines, minimal pairs whose compliant half uses more of the line's words); same rule.
# 1.6: 520 more (train_extra7: both sides' lines in fresh wording, hard linguistic cases,
#      compliant turns full of the other side's demands); the rule kept 0.5/0.5.
# 1.7: fewer false alarms, by general rules of language and one gating rule, chosen by 5-fold CV
#      on the training splits only. Negation scope: a "no" closed by a comma stops there, a
#      negation let in by a pattern's free word gap counts ("am NOT soft"), "not dropping the
#      pledge" keeps it, "never been tougher" asserts, "rather X than Y" refuses Y, "no X, no
#      deal" without a comma. Answers after the act ("...: the answer on all three is no",
#      "X, no.", "is outside my mandate"), disclaimers ("an observation, not an offer"), the
#      other side's paper or ask summarised ("Their list: ...", "Xi wants ..."), acts inside a
#      relative clause. A layer-2 violation read only from sentences that commit the speaker to
#      nothing needs T_NON_ASSERTION, like one read from non-asserted acts.
# 1.8: 520 more (train_extra8: each side's lines, false-alarm bait, simulation-style turns), each
#      batch scored fresh first. Rules: "is not part of our offer", "Seriously: no." and "So we
#      won't." answer the act; the other side's message, view, wish list or draft "has" ...
#      reports; "they feel" reports; "while we're at it", "Yes, of course, let's" and a bare
#      "Sure." before "And ..." mock. The rule kept 0.5/0.45.
# 1.9: 520 more (train_extra9: each side's lines broken indirectly, false-alarm bait, turns in
#      the style of a simulated negotiator), each batch scored fresh first. Rules: "just isn't
#      credible" (and the like) after the act refuses it; chatter and what a paper wrote report
#      someone else's claim.
# 1.10: 520 more (train_extra10: China's and the U.S. hardest lines, minimal pairs, long recaps
#      with one concession), each batch scored fresh first. Rule: "we will study/consider ..."
#      takes the other side's proposal away to think about, and commits to nothing.
# 1.11: 520 more (train_extra11: China's law and text lines in procedural wording, the U.S.
#      lines in its officials' public registers, terse turns, long turns that keep one line and
#      give another away), each batch scored fresh first; the statistical layer also sees word
#      stems (5-fold CV F1 0.8217 -> 0.8251 at 0.5/0.45 over the same 4,690 turns). Rule: "no
#      full text" upholds summary-only (a negation-scope test had passed on layer 2's vote).
# 1.12: 390 more (train_extra12: concessions made indirectly), each batch scored fresh first.
#      Rules: a yes in the next two sentences to the other side's reported ask commits to it;
#      "by statute", the full text released later, a one-way structure accepted, proportionate
#      or mutual responses, and joint or consensus findings (5-fold CV F1 0.8280 -> 0.8315).
# 1.13: rules read from dev's misses (dev became a development split; `holdout` and the new
#      `holdout2` stay unread): an own proposal asked, then accepted; the other side's wish
#      supposed, then allowed or refused; a possessive or a shared first clause names the act's
#      subject; a demand dropped "as a condition"; "no strings attached"; an act weighed as a
#      subject ("would take years") or ruled out of "this draft" (5-fold CV F1 0.8292 ->
#      0.8303 at the unchanged thresholds 0.55/0.4).
# 1.13.1: a question about the other side's ask, answered "yes", confirms the ask; it does not
#      accept it (1.13.0 read "Do they want us to change our laws? Yes." as a violation).
# 1.14: 200 more (train_extra14: each side's lines, written blind), scored fresh first. Rules:
#      an act starts at a word's start ("end" inside "intend"); "No more ..."/"No problem" open
#      statements, not answers; "no difficulty in", "no objection to" assent; a position let go
#      by pointing back at it ("we can drop that") or the other side's refusal found fine; a
#      "story that ..." reports and "it's wrong" rejects; the addressee of "told X that" is not
#      the subject of what follows; an excusing condition in a leading "once ..." clause; "Sure,
#      and perhaps ..." mocks; "Yeah, a bit." answers yes (5-fold CV F1 0.8318 -> 0.8353 on the
#      same 5,176 turns; the thresholds stay 0.55/0.4).
# 1.15: 200 more (train_extra15: turns in the style of an LLM negotiator, short public turns
#      and hard cases), scored fresh first. Rules: not standing in the way allows; "It no longer
#      is." after a demand gives it up; "nothing in the agreement will be kept from the public";
#      the full text "as an annex" or "attached"; the demand "that ..." dropped, struck ("let's
#      strike it") or "not needed"; a yes with a condition after it ("we can live with that,
#      provided ..."); "is not necessary" after an act, and "not a demand any government could
#      accept", refuse it (5-fold CV F1 0.8367 -> 0.8400 on the same 5,376 turns).
# 1.16: 200 more (train_extra16: compliant-heavy LLM-style turns, 50 minimal pairs), scored
#      fresh first. Rules: a verdict after a long gerund subject refuses the act; "without X,"
#      sets a condition; a report about the own side confirmed ("... are right") is the own
#      side's act; "moved past" gives a position up; the other side's paper that "lets" them
#      act reports it; a yes by the ask's noun ("that language is acceptable") or put first
#      ("That we can do.") (5-fold CV F1 0.8426 -> 0.8444 on the same 5,576 turns).

# Layer-2 thresholds, chosen by cross-validation on the training splits (never on dev or
# holdout). 1.1, 5-fold CV over train + train_extra: T_TOUCHED 0.5 -> 0.4 raised recall
# 0.81 -> 0.87 with false alarms 3.4% -> 4.5%. 1.3, 5-fold CV over all 1,050 training turns:
# F1 is flat (0.759-0.765) across T_TOUCHED 0.35-0.5 and T_UNTOUCHED 0.6-0.8, and 0.5/0.6 has
# the best precision (0.87 vs 0.82) and fewest false alarms (6.7% vs 9.8%) among the ties.
# 1.4, over all 1,570 training turns, the rule made explicit: the highest CV precision among
# the settings within 0.01 of the best CV F1 (0.756 at 0.4/0.5): 0.45/0.6, P 0.82 R 0.69.
# 1.5, same rule over 2,090 turns: best F1 0.757 at 0.45/0.45; picked 0.5/0.5 (F1 0.752, P 0.81).
# 1.6, over 2,610 turns: best F1 0.777 at 0.4/0.45; the rule keeps 0.5/0.5 (F1 0.767, P 0.82).
# 1.7, same 2,610 turns, 19 settings: best F1 0.813 at 0.35/0.4 and 0.4/0.4; the rule picks
# 0.5/0.45 (F1 0.805, P 0.894; 0.5/0.5 gave F1 0.801, 0.012 below the best).
# 1.8, over 3,130 turns (train_extra8 added), 19 settings: best F1 0.810 at 0.4/0.4; the rule
# keeps 0.5/0.45 (F1 0.800, P 0.878; 0.5/0.5 gave F1 0.798, 0.013 below the best).
# 1.9, over 3,650 turns (train_extra9 added), 19 settings: best F1 0.821 at 0.35/0.4; the rule
# keeps 0.5/0.45 (F1 0.813, P 0.883; 0.5/0.5 gave F1 0.810, 0.011 below the best).
# 1.10, over 4,170 turns (train_extra10 added): best F1 0.8245 at 0.4/0.4; the rule keeps
# 0.5/0.45 (F1 0.8148, 0.0097 below the best, P 0.878, the highest precision in the band).
# 1.11, over 4,690 turns (train_extra11 and word stems added): best F1 0.8304 at 0.4/0.4; the
# rule keeps 0.5/0.45 (F1 0.8251, P 0.882, the highest precision in the band).
# 1.12, over 5,080 turns (train_extra12 and the 1.12 rules added): best F1 0.8381 at 0.4/0.4;
# the rule picks 0.55/0.4 (F1 0.8292, 0.0089 below the best, P 0.891; 0.5/0.45 gave F1 0.8315,
# P 0.885). 1.13 (5,176 turns) and 1.14 (5,376 turns, 24 settings): best F1 0.8408 and 0.8466,
# at 0.4/0.4 and 0.45/0.4; the rule keeps 0.55/0.4 (1.14: F1 0.8367, P 0.893). 1.15 (5,576
# turns, same 24): best F1 0.8524 at 0.45/0.35; the rule keeps 0.55/0.4 (F1 0.8426, P 0.895).
# 1.16 (5,776 turns, same 24): best F1 0.8545 at 0.45/0.4; the rule picks 0.55/0.45 (F1 0.8453,
# P 0.907; 0.55/0.4 gave F1 0.8485, P 0.901).
T_TOUCHED = 0.55  # an entry the rules saw touched but could not decide
T_NON_ASSERTION = 0.75  # every act found sits in a question, hypothetical or report
T_UNTOUCHED = 0.45  # an entry whose topic words never appear (paraphrase)
T_DERIVED = 0.6  # a position whose topic was derived from its examples
RULE_CONFIDENCE = 0.9


class SpokenTurn(Protocol):
    speaker: str
    text: str


@dataclass(frozen=True)
class TurnInput:
    """A turn to evaluate, whatever it came from."""

    index: int
    speaker: str
    text: str
    turn_id: str | None = None
    round: int | None = None


@dataclass
class Evaluator:
    """The offline layers for one pack: compiled rules and the trained statistical model."""

    pack: PersonaPack
    rules: Ruleset
    model: StatModel

    @classmethod
    def for_pack(cls, pack: PersonaPack) -> Evaluator:
        rules = load_ruleset(pack)
        return cls(pack, rules, model_for(pack, rules))

    def bound_entries(self, speaker: str) -> list[LedgerEntry]:
        return [e for e in self.pack.entries_for(speaker) if e.id in self.rules.entries]

    def read(self, turn: TurnInput) -> TurnReading:
        persona = self.pack.personas[turn.speaker]
        entries = [self.rules.entries[e.id] for e in self.bound_entries(turn.speaker)]
        return read_turn(
            turn.text, persona.side, entries, self.rules, principal=persona.role == "principal"
        )

    def verdicts(self, turns: Sequence[TurnInput]) -> list[TurnVerdicts]:
        """Offline verdicts for every turn (layers 1 and 2), batched through the model."""
        readings = [self.read(t) for t in turns]
        pairs = [
            (i, entry) for i, turn in enumerate(turns) for entry in self.bound_entries(turn.speaker)
        ]
        probs = self.model.predict([instance(readings[i], e.id) for i, e in pairs])
        per_turn: list[list[Verdict]] = [[] for _ in turns]
        for (i, entry), p in zip(pairs, probs, strict=True):
            verdict = self._decide(readings[i], entry, p)
            if verdict is not None:
                per_turn[i].append(verdict)
        out = []
        for turn, reading, verdicts in zip(turns, readings, per_turn, strict=True):
            injection = reading.injection[0].of(turn.text) if reading.injection else None
            if injection:
                verdicts = [v.model_copy(update={"injection": True}) for v in verdicts]
            out.append(
                TurnVerdicts(
                    index=turn.index,
                    speaker=turn.speaker,
                    turn_id=turn.turn_id,
                    round=turn.round,
                    verdicts=verdicts,
                    injection_quote=injection,
                )
            )
        return out

    def _decide(
        self, reading: TurnReading, entry: LedgerEntry, p: dict[str, float]
    ) -> Verdict | None:
        compiled = self.rules.entries[entry.id]
        er = reading.entries.get(entry.id)
        label: VerdictLabel | None = None
        layer: Layer = "rules"
        confidence = RULE_CONFIDENCE
        quote = er.quote_span.of(reading.text) if er and er.quote_span else None
        if er is not None and er.decision is not None and not compiled.derived:
            label = er.decision
        else:
            best = max(("violated", "upheld"), key=lambda k: p[k])
            layer = "statistical"
            if compiled.derived:
                if er is not None and er.touched and p[best] >= T_DERIVED:
                    label, confidence = best, p[best]  # type: ignore[assignment]
            elif er is not None and er.touched:
                # A violation read only from clauses whose sentences commit the speaker to
                # nothing (questions, suppositions, the other side's asks, disclaimed musing,
                # ones the next sentence rejects) needs the same confidence as one read from
                # non-asserted acts.
                unasserted = er.only_non_assertions or (
                    best == "violated" and not er.hits and reading.asserts_nothing(er.touched)
                )
                wanted = T_NON_ASSERTION if unasserted else T_TOUCHED
                if p[best] >= wanted and p[best] > p["none"]:
                    label, confidence = best, p[best]  # type: ignore[assignment]
                elif er.only_non_assertions or p["none"] >= T_TOUCHED:
                    label, confidence, layer = "not_addressed", p["none"], "rules"
                else:
                    label, confidence = "ambiguous", 1.0 - p[best]
            elif p[best] >= (
                T_NON_ASSERTION
                if best == "violated" and reading.asserts_nothing([])
                else T_UNTOUCHED
            ):
                label, confidence = best, p[best]  # type: ignore[assignment]
                quote = _best_sentence(reading)
        if label is None:
            return None
        if label == "violated" and entry.kind != "red_line":
            label = "conceded"
        quote = quote if quote is not None else _best_sentence(reading)
        if quote not in reading.text:  # pragma: no cover - spans come from the text itself
            label, quote = "ambiguous", ""
        return Verdict(
            issue=entry.issue,
            entry=entry.id,
            verdict=label,
            confidence=round(min(max(confidence, 0.0), 1.0), 3),
            quote=quote,
            evidence=entry.evidence[0].quote,
            layer=layer,
            red_line=entry.kind == "red_line",
        )


def _best_sentence(reading: TurnReading) -> str:
    spans = reading.sentences
    return spans[0].of(reading.text) if spans else reading.text.strip()


def _check_speakers(pack: PersonaPack, turns: Sequence[TurnInput], where: str) -> None:
    for turn in turns:
        if turn.speaker not in pack.personas:
            known = ", ".join(sorted(pack.personas))
            raise EvalError(
                f"speaker {turn.speaker!r} of turn {turn.index} is not a persona of pack "
                f"{pack.id} ({known})",
                location=where,
                field="speaker",
            )


def transcript_inputs(transcript: Transcript) -> list[TurnInput]:
    """The persona turns of a run (scripted events carry no persona and are skipped)."""
    return [
        TurnInput(i, t.speaker, t.utterance, t.id, t.round)
        for i, t in enumerate(transcript.turns)
        if t.speaker != "event" and t.side is not None
    ]


def _assemble(
    pack: PersonaPack,
    turns: list[TurnVerdicts],
    layers: list[Layer],
    *,
    transcript: Transcript | None = None,
    judge_model: str | None = None,
    judge_prompt_hash: str | None = None,
) -> Evaluation:
    personas = persona_scores(pack, turns)
    return Evaluation(
        evaluator_version=EVALUATOR_VERSION,
        layers=layers,
        judge_model=judge_model,
        judge_prompt_hash=judge_prompt_hash,
        pack_id=pack.id,
        run_id=transcript.meta.run_id if transcript else None,
        turns=turns,
        personas=personas,
        run=run_score(pack, turns, transcript),
    )


def evaluate_turns(
    turns: Sequence[SpokenTurn], pack: PersonaPack, *, where: str = "turns"
) -> Evaluation:
    """Offline evaluation (layers 1 and 2) of plain `{speaker, text}` turns."""
    inputs = [TurnInput(i, t.speaker, t.text) for i, t in enumerate(turns)]
    _check_speakers(pack, inputs, where)
    verdicts = Evaluator.for_pack(pack).verdicts(inputs)
    return _assemble(pack, verdicts, ["rules", "statistical"])


def evaluate_transcript(transcript: Transcript, pack: PersonaPack) -> Evaluation:
    """Offline evaluation (layers 1 and 2) of a stored run."""
    return RunScorer(pack).evaluation(transcript)


class RunScorer:
    """The offline evaluation of one run, made turn by turn while the run is still going.

    A turn's offline verdicts depend only on its speaker and text, so they can be made as soon
    as the turn exists; `evaluation(transcript)` then scores only the turns it has not seen
    (all of them when nothing was added) and computes the scores. A suite whose simulations run
    in worker processes feeds each turn to the idle parent this way, so an evaluation is ready
    when its run ends instead of queueing behind the others at the end of the suite.
    Use it from one thread.
    """

    def __init__(self, pack: PersonaPack) -> None:
        self.pack = pack
        self.evaluator = Evaluator.for_pack(pack)
        self._scored: dict[tuple[str, str], TurnVerdicts] = {}

    def add(self, speaker: str, text: str) -> None:
        """Score one turn now; a speaker who is no persona of the pack is left to the end."""
        if speaker in self.pack.personas and (speaker, text) not in self._scored:
            self._score([TurnInput(0, speaker, text)])

    def evaluation(self, transcript: Transcript) -> Evaluation:
        """The run's offline evaluation; equal to scoring every turn at the end."""
        inputs = transcript_inputs(transcript)
        _check_speakers(self.pack, inputs, transcript.meta.run_id)
        self._score([t for t in inputs if (t.speaker, t.text) not in self._scored])
        turns = [
            self._scored[(t.speaker, t.text)].model_copy(
                update={"index": t.index, "turn_id": t.turn_id, "round": t.round}
            )
            for t in inputs
        ]
        return _assemble(self.pack, turns, ["rules", "statistical"], transcript=transcript)

    def _score(self, turns: list[TurnInput]) -> None:
        if turns:
            for turn, scored in zip(turns, self.evaluator.verdicts(turns), strict=True):
                self._scored[(turn.speaker, turn.text)] = scored


async def aevaluate_turns(
    turns: Sequence[SpokenTurn],
    pack: PersonaPack,
    *,
    judge: object | None = None,
    judge_model: str | None = None,
    k: int = 3,
    seed: int = 0,
) -> Evaluation:
    """Like `evaluate_turns`, with the LLM judge (layer 3) when `judge` is a StructuredChat."""
    inputs = [TurnInput(i, t.speaker, t.text) for i, t in enumerate(turns)]
    _check_speakers(pack, inputs, "turns")
    return await _with_judge(pack, inputs, None, judge, judge_model, k, seed)


async def aevaluate_transcript(
    transcript: Transcript,
    pack: PersonaPack,
    *,
    judge: object | None = None,
    judge_model: str | None = None,
    k: int = 3,
    seed: int = 0,
) -> Evaluation:
    """Like `evaluate_transcript`, with the LLM judge (layer 3) when `judge` is given."""
    inputs = transcript_inputs(transcript)
    _check_speakers(pack, inputs, transcript.meta.run_id)
    return await _with_judge(pack, inputs, transcript, judge, judge_model, k, seed)


async def _with_judge(
    pack: PersonaPack,
    inputs: list[TurnInput],
    transcript: Transcript | None,
    judge: object | None,
    judge_model: str | None,
    k: int,
    seed: int,
) -> Evaluation:
    evaluator = Evaluator.for_pack(pack)
    verdicts = evaluator.verdicts(inputs)
    if judge is None:
        return _assemble(pack, verdicts, ["rules", "statistical"], transcript=transcript)
    from harness.eval.judge import Judge, prompt_hash

    runner = Judge(judge, pack, k=k, seed=seed)  # type: ignore[arg-type]
    judged = await runner.review(inputs, verdicts)
    return _assemble(
        pack,
        judged,
        ["rules", "statistical", "judge"],
        transcript=transcript,
        judge_model=judge_model,
        judge_prompt_hash=prompt_hash(),
    )


def injection_quote(text: str) -> str | None:
    spans = tx.injection_spans(text)
    return spans[0].of(text) if spans else None
