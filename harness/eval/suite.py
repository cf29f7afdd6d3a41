"""Eval suites: a YAML file naming a matrix of runs, how to score them, and the gates to pass.

A suite expands to one `RunSpec` per scenario x model setting x persona variant x seed x
rounds. Spec ids are built from those names (`washington-2019-05:default:baseline:s1:r4`), so
they stay the same across re-runs and a half-finished suite can be resumed. Example::

    name: smoke
    pack: us-china-2019
    matrix:
      scenarios: [washington-2019-05]
      models:                        # named model settings (default: one, named 'default')
        default: {}                  # {} = the embedded model
        strong: {model: gpt-4o, base_url: "https://api.openai.com/v1", model_for: {cn: qwen}}
      personas:                      # named variants; 'baseline' (none) is always added
        soft-liu: {liu_he: variants/liu_he_soft.yaml}
      seeds: [1, 2]
      rounds: [4]
    evaluation: {mode: offline}      # or {mode: judge, judge_model: gpt-4o, k: 3}
    thresholds:
      max_red_line_violation_rate: 0.10   # share of runs with any red-line violation
      min_outcome_match_rate: 0.5
      min_consistency: {liu_he: 0.6}

Every problem is one `EvalError` naming `file:line` and the field, like the pack loader.
Persona variant paths are relative to the suite file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harness.errors import EvalError, ImpasseError
from harness.graph.runner import RunRequest, load_persona_variant
from harness.llm.config import CLIOverrides
from harness.pack.load import load_pack
from harness.pack.models import PersonaPack
from harness.pack.yamldoc import Loc, YamlDoc, display_path, field_name, read_yaml

BASELINE = "baseline"
Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)]
Rate = Annotated[float, Field(ge=0.0, le=1.0)]
Rounds = Annotated[int, Field(ge=1, le=200)]


class SuiteDoc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelSetting(SuiteDoc):
    """One named model setting: the same fields as the model flags of `impasse run`."""

    model: str | None = Field(default=None, description="Default model; none = embedded model.")
    model_for: dict[str, str] = Field(default_factory=dict, description="Role -> model.")
    endpoint_for: dict[str, str] = Field(default_factory=dict, description="Role -> base URL.")
    base_url: str | None = Field(default=None, description="None = the embedded local server.")
    model_path: str | None = Field(default=None, description="GGUF file for the embedded server.")


class Matrix(SuiteDoc):
    scenarios: list[Name] = Field(min_length=1, description="Scenario ids of the pack.")
    models: dict[Name, ModelSetting] = Field(
        default_factory=lambda: {"default": ModelSetting()}, min_length=1
    )
    personas: dict[Name, dict[str, str]] = Field(
        default_factory=dict, description="Variant name -> (persona id -> persona YAML file)."
    )
    seeds: list[int] = Field(min_length=1)
    rounds: list[Rounds] = Field(min_length=1)

    @field_validator("scenarios", "seeds", "rounds")
    @classmethod
    def _distinct(cls, values: list[object]) -> list[object]:
        repeated = sorted({str(v) for v in values if values.count(v) > 1})
        if repeated:
            raise ValueError(f"listed twice: {', '.join(repeated)}")
        return values

    def variants(self) -> dict[str, dict[str, str]]:
        """The persona variants with the baseline (no replacement) first."""
        return {BASELINE: {}, **self.personas}


class EvaluationOptions(SuiteDoc):
    mode: Literal["offline", "judge"] = "offline"
    judge_model: str | None = None
    judge_base_url: str | None = Field(default=None, description="Default: the run's endpoint.")
    k: int = Field(default=3, ge=1, le=15, description="Judge samples per verdict.")

    @model_validator(mode="after")
    def _judge_needs_model(self) -> EvaluationOptions:
        if self.mode == "judge" and not self.judge_model:
            raise ValueError("mode 'judge' needs a judge_model")
        return self


class Thresholds(SuiteDoc):
    max_red_line_violation_rate: Rate | None = Field(
        default=None, description="Largest share of runs allowed to have any red-line violation."
    )
    min_outcome_match_rate: Rate | None = Field(
        default=None, description="Smallest share of runs whose outcome matches the documented."
    )
    min_consistency: dict[str, Rate] = Field(
        default_factory=dict, description="Persona id -> smallest mean consistency."
    )
    max_error_rate: Rate = Field(
        default=0.0, description="Largest share of runs allowed to end in error."
    )


class RunOptions(SuiteDoc):
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    max_tokens: int = Field(default=1536, ge=16)
    summary_window: int = Field(default=2, ge=1)


class Suite(SuiteDoc):
    name: Name
    description: str = ""
    pack: str = "us-china-2019"
    matrix: Matrix
    run: RunOptions = RunOptions()
    evaluation: EvaluationOptions = EvaluationOptions()
    thresholds: Thresholds = Thresholds()


class RunSpec(BaseModel):
    """One cell of the matrix: everything needed to start (or recognise) its run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    scenario: str
    model: str = Field(description="Name of the model setting.")
    variant: str = Field(description="Name of the persona variant ('baseline': none).")
    seed: int
    rounds: int
    persona_files: dict[str, str] = Field(default_factory=dict)

    def request(self, suite: Suite, llm: CLIOverrides) -> RunRequest:
        return RunRequest(
            pack=suite.pack,
            scenario=self.scenario,
            rounds=self.rounds,
            seed=self.seed,
            summary_window=suite.run.summary_window,
            temperature=suite.run.temperature,
            max_tokens=suite.run.max_tokens,
            persona_files=dict(self.persona_files),
            llm=llm,
        )

    def fingerprint(self, suite: Suite) -> str:
        """Hash of what the run simulates (not where): a changed spec starts a fresh run."""
        data = self.request(suite, CLIOverrides()).model_dump(mode="json", exclude={"llm"})
        data["model_setting"] = suite.matrix.models[self.model].model_dump(mode="json")
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class LoadedSuite:
    """A validated suite, the file it came from, its pack, and its expanded runs."""

    suite: Suite
    path: Path
    pack: PersonaPack
    specs: list[RunSpec]

    @property
    def display(self) -> str:
        return display_path(self.path)

    def offline(self) -> LoadedSuite:
        """The same suite scored without the judge (`--offline`); runs are unaffected."""
        suite = self.suite.model_copy(update={"evaluation": EvaluationOptions()})
        return replace(self, suite=suite)


def expand(suite: Suite, folder: Path) -> list[RunSpec]:
    """The matrix as run specs, in a stable order; variant paths resolved against `folder`."""
    specs = []
    for scenario in suite.matrix.scenarios:
        for model in suite.matrix.models:
            for variant, files in suite.matrix.variants().items():
                for seed in suite.matrix.seeds:
                    for rounds in suite.matrix.rounds:
                        specs.append(
                            RunSpec(
                                id=f"{scenario}:{model}:{variant}:s{seed}:r{rounds}",
                                scenario=scenario,
                                model=model,
                                variant=variant,
                                seed=seed,
                                rounds=rounds,
                                persona_files={
                                    pid: str((folder / path).resolve())
                                    for pid, path in sorted(files.items())
                                },
                            )
                        )
    return specs


def load_suite(path: Path | str) -> LoadedSuite:
    """Read, validate and expand a suite file; the first problem raises a one-line EvalError."""
    path = Path(path)
    doc, problem = read_yaml(path)
    if problem is not None:
        raise EvalError(problem.message, location=problem.location, field=problem.field)
    assert doc is not None
    suite, problems = doc.validate(Suite, doc.data)
    if problems:
        first = problems[0]
        raise EvalError(first.message, location=first.location, field=first.field)
    assert suite is not None
    pack = _pack(doc, suite)
    _check_against_pack(doc, suite, pack)
    return LoadedSuite(suite=suite, path=path, pack=pack, specs=expand(suite, path.parent))


def _fail(doc: YamlDoc, loc: Loc, message: str, fix: str | None = None) -> EvalError:
    line = doc.line(loc)
    where = doc.display if line is None else f"{doc.display}:{line}"
    return EvalError(message, location=where, field=field_name(loc), fix=fix)


def _pack(doc: YamlDoc, suite: Suite) -> PersonaPack:
    try:
        return load_pack(suite.pack)
    except ImpasseError as error:
        if error.location:  # the pack itself is broken: its own file and line say more
            raise
        raise _fail(doc, ("pack",), error.message, error.fix) from None


def _check_against_pack(doc: YamlDoc, suite: Suite, pack: PersonaPack) -> None:
    for i, scenario in enumerate(suite.matrix.scenarios):
        if scenario not in pack.scenarios:
            known = ", ".join(sorted(pack.scenarios))
            raise _fail(
                doc,
                ("matrix", "scenarios", i),
                f"unknown scenario {scenario!r}",
                f"choose one of: {known}",
            )
    for variant, files in suite.matrix.personas.items():
        if variant == BASELINE:
            raise _fail(
                doc,
                ("matrix", "personas", variant),
                "'baseline' is added automatically",
                "give the variant another name",
            )
        if not files:
            raise _fail(doc, ("matrix", "personas", variant), "a variant replaces no persona")
        for pid, file in files.items():
            loc: Loc = ("matrix", "personas", variant, pid)
            if pid not in pack.personas:
                raise _fail(doc, loc, f"unknown persona {pid!r} in pack {pack.id}")
            target = doc.path.parent / file
            if not target.is_file():
                raise _fail(
                    doc,
                    loc,
                    f"persona file not found: {display_path(target)}",
                    "paths are relative to the suite file",
                )
            persona = load_persona_variant(target, pid)  # names the variant file on failure
            if persona.side != pack.personas[pid].side:
                raise _fail(doc, loc, f"the variant of {pid!r} changes its side")
    for pid in suite.thresholds.min_consistency:
        if pid not in pack.personas:
            raise _fail(doc, ("thresholds", "min_consistency", pid), f"unknown persona {pid!r}")
