"""The suite report: per run results, aggregates with bootstrap intervals, and threshold gates.

`build_report` turns the finished (or failed) runs of a suite into a `SuiteReport`, saved as
`report.json`; `harness.eval.report_md` renders `report.md` and `harness.eval.report_html` the page.
Runs that ended in error are listed with their error and left out of every score aggregate;
`max_error_rate` gates them. Red-line violations are counted per run, never averaged away: the
violation rate is the share of evaluated runs with at least one.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from harness import __version__
from harness.eval import EVALUATOR_VERSION
from harness.eval.model import Evaluation, PersonaScore
from harness.eval.scores import bootstrap_ci
from harness.eval.suite import LoadedSuite, RunSpec
from harness.llm.types import Usage
from harness.transcript.model import Transcript

REPORT_SCHEMA_VERSION = 1
OUTCOMES = ("deal", "no_deal", "breakdown")
RunStatus = Literal["complete", "error", "running", "pending"]


class ReportDoc(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Interval(ReportDoc):
    """A mean with its 95% percentile-bootstrap interval (seeded, so reproducible)."""

    mean: float
    low: float
    high: float
    n: int = Field(description="Number of values the mean is over.")


class RunResult(ReportDoc):
    """One run spec of the matrix and what its run gave."""

    spec: str = Field(description="Stable spec id: scenario:model:variant:s<seed>:r<rounds>.")
    scenario: str
    model: str = Field(description="Name of the model setting.")
    variant: str = Field(description="Persona variant ('baseline': none).")
    seed: int
    rounds: int
    run_id: str | None = Field(description="Run folder in the transcripts folder.")
    status: RunStatus
    error: str | None = None
    evaluated: bool = False
    turns: int = 0
    outcome: str | None = None
    talks_continue: bool | None = None
    documented_outcome: str | None = None
    documented_talks_continue: bool | None = None
    outcome_matches: bool | None = None
    red_line_violations: int = 0
    violated_entries: list[str] = Field(default_factory=list)
    fidelity: float | None = Field(
        default=None, description="Mean consistency over the run's personas that took positions."
    )
    personas: dict[str, PersonaScore] = Field(default_factory=dict)
    backtracking_events: int = 0
    private_leaks: int = 0
    retries: int = Field(default=0, description="Retries the run's successful calls needed.")
    usage: Usage = Field(default_factory=Usage, description="Tokens of the run's calls.")


class OutcomeDistribution(ReportDoc):
    scenario: str
    documented: str | None = Field(description="The documented result; None if the pack has none.")
    documented_talks_continue: bool | None
    counts: dict[str, int] = Field(description="Result -> evaluated runs that ended so.")
    runs: int
    match_rate: float | None = Field(description="Share of runs matching the documented outcome.")


class GroupSummary(ReportDoc):
    """Aggregates of one model setting x persona variant."""

    runs: int
    fidelity: Interval | None
    violation_rate: float | None
    outcome_match_rate: float | None


class Aggregates(ReportDoc):
    runs: int
    complete: int
    errors: int
    evaluated: int
    fidelity: Interval | None = Field(description="Per-run fidelity: mean and interval.")
    consistency_by_persona: dict[str, Interval]
    violation_rate: Interval | None = Field(
        description="Share of evaluated runs with any red-line violation."
    )
    violation_rate_by_red_line: dict[str, float] = Field(
        description="Red-line entry id -> share of evaluated runs that violated it."
    )
    outcomes: list[OutcomeDistribution]
    outcome_match_rate: float | None
    by_group: dict[str, GroupSummary] = Field(description="'model/variant' -> aggregates.")
    retries: int = Field(description="Sum of the runs' retries.")
    usage: Usage


class ThresholdResult(ReportDoc):
    name: str
    limit: float
    value: float | None
    passed: bool
    detail: str


class CallTotals(ReportDoc):
    """Model calls this invocation made (a resumed suite counts only its own), with retries."""

    calls: int = 0
    failures: int = Field(default=0, description="Calls that failed for good.")
    retries: int = Field(default=0, description="Retries, including those of failed calls.")
    cache_hits: int = 0

    @classmethod
    def of_routers(cls, routers: Iterable[Any]) -> CallTotals:
        """The calls counted by these routers' accounting (routers may share one)."""
        totals = cls()
        seen: set[int] = set()
        for router in routers:
            accounting = getattr(router, "accounting", None)
            if accounting is None or id(accounting) in seen:
                continue
            seen.add(id(accounting))
            t = accounting.total
            totals = totals + cls(
                calls=t.calls, failures=t.failures, retries=t.retries, cache_hits=t.cache_hits
            )
        return totals

    def __add__(self, other: CallTotals) -> CallTotals:
        return CallTotals(
            calls=self.calls + other.calls,
            failures=self.failures + other.failures,
            retries=self.retries + other.retries,
            cache_hits=self.cache_hits + other.cache_hits,
        )


class SuiteReport(ReportDoc):
    """`report.json` of a suite's report folder."""

    schema_version: int = REPORT_SCHEMA_VERSION
    suite: str
    description: str = ""
    suite_file: str
    pack_id: str
    pack_hash: str
    generated_at: dt.datetime
    impasse_version: str = __version__
    evaluator_version: str = EVALUATOR_VERSION
    evaluation_mode: str
    layers: list[str] = Field(description="Evaluator layers that ran, over all runs.")
    runs: list[RunResult]
    aggregates: Aggregates
    thresholds: list[ThresholdResult]
    session: CallTotals
    passed: bool = Field(description="Every threshold passed (exit code 0).")


@dataclass(frozen=True)
class RunRecord:
    """What the runner knows about one spec when the report is written."""

    spec: RunSpec
    status: RunStatus
    run_id: str | None = None
    error: str | None = None
    transcript: Transcript | None = None
    evaluation: Evaluation | None = None


def _interval(values: Sequence[float]) -> Interval | None:
    found = bootstrap_ci(list(values))
    return (
        None
        if found is None
        else Interval(mean=found.mean, low=found.low, high=found.high, n=found.n)
    )


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def run_result(record: RunRecord) -> RunResult:
    spec = record.spec
    result = RunResult(
        spec=spec.id,
        scenario=spec.scenario,
        model=spec.model,
        variant=spec.variant,
        seed=spec.seed,
        rounds=spec.rounds,
        run_id=record.run_id,
        status=record.status,
        error=record.error,
    )
    if record.transcript is not None:
        t = record.transcript
        result.turns = len(t.turns)
        result.retries = t.meta.retries
        result.usage = t.meta.usage
    ev = record.evaluation
    if ev is None:
        return result
    consistencies = [p.consistency for p in ev.personas.values() if p.consistency is not None]
    result.evaluated = True
    result.outcome, result.talks_continue = ev.run.outcome, ev.run.talks_continue
    result.documented_outcome = ev.run.documented_outcome
    result.documented_talks_continue = ev.run.documented_talks_continue
    result.outcome_matches = ev.run.outcome_matches
    result.red_line_violations = ev.run.red_line_violations
    result.violated_entries = sorted({e for p in ev.personas.values() for e in p.violated_entries})
    result.fidelity = _mean(consistencies)
    result.backtracking_events = ev.run.backtracking_events
    result.private_leaks = len(ev.run.private_leaks)
    result.personas = dict(sorted(ev.personas.items()))
    return result


RUN_COLUMNS = (
    "spec",
    "run",
    "status",
    "turns",
    "outcome",
    "violations",
    "red lines broken",
    "fidelity",
    "retries",
    "tokens",
)


def run_row(r: RunResult) -> list[object]:
    """One run as the cells of `RUN_COLUMNS` (report.md and report.html)."""
    fidelity = "-" if r.fidelity is None else f"{r.fidelity:.2f}"
    return [
        r.spec,
        r.run_id or "-",
        r.status + (f": {r.error}" if r.error else ""),
        r.turns,
        r.outcome or "-",
        r.red_line_violations,
        ", ".join(r.violated_entries) or "-",
        fidelity,
        r.retries,
        r.usage.prompt_tokens + r.usage.completion_tokens,
    ]


def _rate(runs: Sequence[RunResult], hit: Callable[[RunResult], bool]) -> float | None:
    return sum(1 for r in runs if hit(r)) / len(runs) if runs else None


def _match_rate(runs: Sequence[RunResult]) -> float | None:
    compared = [r for r in runs if r.outcome_matches is not None]
    return _rate(compared, lambda r: bool(r.outcome_matches))


def aggregate(loaded: LoadedSuite, runs: Sequence[RunResult]) -> Aggregates:
    scored = [r for r in runs if r.evaluated]
    personas = sorted({p for r in scored for p in r.personas})
    by_persona = {
        p: [r.personas[p].consistency for r in scored if p in r.personas] for p in personas
    }
    consistency = {
        p: ci
        for p, values in by_persona.items()
        if (ci := _interval([v for v in values if v is not None])) is not None
    }
    outcomes = []
    for scenario in loaded.suite.matrix.scenarios:
        own = [r for r in scored if r.scenario == scenario]
        documented = loaded.pack.scenarios[scenario].documented_outcome
        counts = Counter(r.outcome or "unfinished" for r in own)
        outcomes.append(
            OutcomeDistribution(
                scenario=scenario,
                documented=documented.result if documented else None,
                documented_talks_continue=documented.talks_continue if documented else None,
                counts={
                    k: counts.get(k, 0) for k in (*OUTCOMES, *sorted(set(counts) - set(OUTCOMES)))
                },
                runs=len(own),
                match_rate=_match_rate(own),
            )
        )
    groups: dict[str, GroupSummary] = {}
    for model in loaded.suite.matrix.models:
        for variant in loaded.suite.matrix.variants():
            own = [r for r in scored if r.model == model and r.variant == variant]
            groups[f"{model}/{variant}"] = GroupSummary(
                runs=len(own),
                fidelity=_interval([r.fidelity for r in own if r.fidelity is not None]),
                violation_rate=_rate(own, lambda r: r.red_line_violations > 0),
                outcome_match_rate=_match_rate(own),
            )
    return Aggregates(
        runs=len(runs),
        complete=sum(1 for r in runs if r.status == "complete"),
        errors=sum(1 for r in runs if r.status == "error"),
        evaluated=len(scored),
        fidelity=_interval([r.fidelity for r in scored if r.fidelity is not None]),
        consistency_by_persona=consistency,
        violation_rate=_interval([float(r.red_line_violations > 0) for r in scored]),
        violation_rate_by_red_line={
            e.id: _rate(scored, lambda r, e=e: e.id in r.violated_entries) or 0.0  # type: ignore[misc]
            for e in loaded.pack.red_lines()
        },
        outcomes=outcomes,
        outcome_match_rate=_match_rate(scored),
        by_group=groups,
        retries=sum(r.retries for r in runs),
        usage=sum((r.usage for r in runs), Usage()),
    )


def _gate(
    name: str, limit: float, value: float | None, at_most: bool, what: str
) -> ThresholdResult:
    if value is None:
        return ThresholdResult(
            name=name, limit=limit, value=None, passed=False, detail=f"no {what} to measure"
        )
    passed = value <= limit if at_most else value >= limit
    sign = "<=" if at_most else ">="
    return ThresholdResult(
        name=name,
        limit=limit,
        value=value,
        passed=passed,
        detail=f"{what} {value:.2f} {'' if passed else 'not '}{sign} {limit:.2f}",
    )


def check_thresholds(loaded: LoadedSuite, agg: Aggregates) -> list[ThresholdResult]:
    gates = loaded.suite.thresholds
    out = [
        _gate(
            "max_error_rate",
            gates.max_error_rate,
            agg.errors / agg.runs if agg.runs else None,
            True,
            "runs in error",
        )
    ]
    if gates.max_red_line_violation_rate is not None:
        rate = agg.violation_rate.mean if agg.violation_rate else None
        out.append(
            _gate(
                "max_red_line_violation_rate",
                gates.max_red_line_violation_rate,
                rate,
                True,
                "share of runs with a red-line violation",
            )
        )
    if gates.min_outcome_match_rate is not None:
        out.append(
            _gate(
                "min_outcome_match_rate",
                gates.min_outcome_match_rate,
                agg.outcome_match_rate,
                False,
                "outcome match rate",
            )
        )
    for persona, limit in sorted(gates.min_consistency.items()):
        ci = agg.consistency_by_persona.get(persona)
        out.append(
            _gate(
                f"min_consistency.{persona}",
                limit,
                ci.mean if ci else None,
                False,
                f"mean consistency of {persona}",
            )
        )
    return out


def build_report(
    loaded: LoadedSuite, records: Sequence[RunRecord], session: CallTotals
) -> SuiteReport:
    runs = [run_result(r) for r in records]
    agg = aggregate(loaded, runs)
    thresholds = check_thresholds(loaded, agg)
    layers = sorted({layer for r in records if r.evaluation for layer in r.evaluation.layers})
    return SuiteReport(
        suite=loaded.suite.name,
        description=loaded.suite.description,
        suite_file=loaded.display,
        pack_id=loaded.pack.id,
        pack_hash=loaded.pack.content_hash,
        generated_at=dt.datetime.now(dt.UTC),
        evaluation_mode=loaded.suite.evaluation.mode,
        layers=layers,
        runs=runs,
        aggregates=agg,
        thresholds=thresholds,
        session=session,
        passed=all(t.passed for t in thresholds),
    )
