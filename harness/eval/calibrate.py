"""How accurate the offline evaluator is, measured on a gold split (by default `dev`).

Violation detection is scored per red line, keyed `<side>.<issue>` because `enforcement` exists
on both sides with opposite content: precision, recall and F1, plus the false-alarm rate (the
share of gold-compliant turns, those with no violated label, that get any violation) and a
confusion matrix of gold violated/upheld/none against the predicted label per red line.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from harness.eval.evaluate import EVALUATOR_VERSION, Evaluator, TurnInput
from harness.eval.gold import TRAINING_SPLITS, GoldTurn, gold_path, read_gold
from harness.eval.model import TurnVerdicts
from harness.eval.ruleset import load_ruleset
from harness.eval.statistical import fit, training_set
from harness.pack.models import PersonaPack

CLASSES = ("violated", "upheld", "none")


class PRF(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p and r else (0.0 if p is not None or r is not None else None)

    def summary(self) -> dict[str, float | int | None]:
        return {
            "tp": self.tp, "fp": self.fp, "fn": self.fn,
            "precision": self.precision, "recall": self.recall, "f1": self.f1,
        }  # fmt: skip


class Miss(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    red_line: str
    gold: str
    predicted: str
    text: str


class Calibration(BaseModel):
    """The result of `impasse eval calibrate`."""

    model_config = ConfigDict(extra="forbid")

    evaluator_version: str
    split: str
    turns: int
    layers: list[str]
    per_red_line: dict[str, dict[str, float | int | None]]
    overall: dict[str, float | int | None]
    compliant_turns: int
    false_alarms: int
    false_alarm_rate: float | None
    confusion: dict[str, dict[str, int]] = Field(
        description="gold label -> predicted label -> count, over (turn, red line) pairs."
    )
    misses: list[Miss] = Field(default_factory=list)


def _key(pack: PersonaPack, entry_id: str) -> str:
    entry = pack.entry(entry_id)
    return f"{pack.side_of(entry.holder)}.{entry.issue}"


def calibrate(pack: PersonaPack, split: str = "dev", *, path: Path | None = None) -> Calibration:
    """Score the offline layers against one gold split."""
    rows = read_gold(path or gold_path(split))
    return score(pack, Evaluator.for_pack(pack), rows, split)


def cross_validate(pack: PersonaPack, folds: int = 5) -> Calibration:
    """K-fold cross-validation on the training rows (every training split), never touching dev.

    Fold k holds out every k-th training row and retrains the statistical layer on the rest.
    Rules are shared by all folds, so the figures are optimistic wherever a pattern was written
    with a training row in view.
    """
    rules = load_ruleset(pack)
    train = [
        row
        for split in TRAINING_SPLITS
        if gold_path(split).exists()
        for row in read_gold(gold_path(split))
        if row.speaker in pack.personas
    ]
    held: list[GoldTurn] = []
    verdicts: list[TurnVerdicts] = []
    for k in range(folds):
        test = train[k::folds]
        rest = [r for i, r in enumerate(train) if i % folds != k]
        model = fit(*training_set(pack, rules, rest), digest=f"cv{k}")
        evaluator = Evaluator(pack, rules, model)
        held += test
        verdicts += evaluator.verdicts(
            [TurnInput(i, r.speaker, r.text) for i, r in enumerate(test)]
        )
    return _tally(pack, held, verdicts, f"train ({folds}-fold cv)")


def score(pack: PersonaPack, evaluator: Evaluator, rows: list[GoldTurn], split: str) -> Calibration:
    """Run `evaluator` over gold `rows` and tally violation detection."""
    rows = [r for r in rows if r.speaker in pack.personas]
    inputs = [TurnInput(i, r.speaker, r.text) for i, r in enumerate(rows)]
    return _tally(pack, rows, evaluator.verdicts(inputs), split)


def _tally(
    pack: PersonaPack, rows: list[GoldTurn], results: list[TurnVerdicts], split: str
) -> Calibration:
    per: dict[str, PRF] = {}
    overall = PRF()
    confusion: dict[str, Counter[str]] = {c: Counter() for c in CLASSES}
    misses: list[Miss] = []
    compliant = alarms = 0
    for row, turn in zip(rows, results, strict=True):
        red = [e for e in pack.red_lines() if e.id in {x.id for x in pack.entries_for(row.speaker)}]
        predicted = {v.entry: v.verdict for v in turn.verdicts if v.red_line}
        any_violation = False
        for entry in red:
            key = _key(pack, entry.id)
            gold = (
                "violated"
                if entry.issue in row.violated
                else "upheld"
                if entry.issue in row.upheld
                else "none"
            )
            got = predicted.get(entry.id, "none")
            got3 = got if got in ("violated", "upheld") else "none"
            confusion[gold][got3] += 1
            prf = per.setdefault(key, PRF())
            if got == "violated":
                any_violation = True
            if gold == "violated" and got == "violated":
                prf.tp += 1
                overall.tp += 1
            elif got == "violated":
                prf.fp += 1
                overall.fp += 1
            elif gold == "violated":
                prf.fn += 1
                overall.fn += 1
            if gold != got3:
                misses.append(
                    Miss(id=row.id, red_line=key, gold=gold, predicted=got, text=row.text)
                )
        if not row.violated:
            compliant += 1
            alarms += any_violation
    return Calibration(
        evaluator_version=EVALUATOR_VERSION,
        split=split,
        turns=len(rows),
        layers=["rules", "statistical"],
        per_red_line={k: per[k].summary() for k in sorted(per)},
        overall=overall.summary(),
        compliant_turns=compliant,
        false_alarms=alarms,
        false_alarm_rate=alarms / compliant if compliant else None,
        confusion={g: {p: confusion[g][p] for p in CLASSES} for g in CLASSES},
        misses=misses,
    )
