"""Run a suite: simulations and evaluations concurrently, resumable, ending in a report folder.

    report = await run_suite(load_suite("evals/suites/smoke.yaml"), store=RunStore("transcripts"),
                             out_dir=Path("reports/smoke"), parallel=4)

Up to `parallel` specs are in flight at once; each model setting gets one router (settings that
resolve to the same thing share one), so the per-endpoint concurrency limit of the LLM layer
holds across the whole suite. With `workers` > 1 the simulations run in that many forked
processes (`harness.eval.suite_workers`), which split the limit between them.
`suite-state.json` in the report folder maps spec id -> run id and status and is rewritten
atomically after every change. A re-run reads it: complete and
evaluated -> kept as is; complete -> evaluated; running or error -> `resume_run` from the
checkpoint; missing (or its spec changed) -> a new run. A run that fails for good is recorded
as an error and the others go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from harness.errors import EvalError, ImpasseError, TranscriptError
from harness.eval import EVALUATOR_VERSION, Evaluator, RunScorer, aevaluate_transcript
from harness.eval.model import Evaluation
from harness.eval.report import CallTotals, RunRecord, SuiteReport, build_report
from harness.eval.report_html import render_html
from harness.eval.report_md import render_markdown
from harness.eval.suite import EvaluationOptions, LoadedSuite, ModelSetting, RunSpec
from harness.eval.suite_workers import SimulationJob, WorkerPool, worker_count
from harness.files import atomic_write_text
from harness.graph.runner import REQUEST_FILE, RunEvent, resume_run, run_scenario
from harness.llm.config import CLIOverrides, LLMSettings, resolve_settings
from harness.llm.router import open_router
from harness.transcript.model import Transcript
from harness.transcript.store import RunStore, read_model

logger = logging.getLogger("harness.suite")

STATE_FILE = "suite-state.json"
REPORT_FILES = ("report.json", "report.md", "report.html")
OpenModels = Callable[[LLMSettings], AbstractAsyncContextManager[Any]]
Action = Literal["skip", "evaluate", "resume", "start"]


class SpecState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_id: str | None = None
    status: Literal["running", "complete", "error"] = "running"
    evaluated: bool = False
    error: str | None = None
    fingerprint: str = Field(description="What the spec simulates; a change starts a new run.")


class SuiteState(BaseModel):
    """`suite-state.json`: where each spec's run is and how far it got."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = 1
    suite: str
    transcripts: str = Field(description="The transcripts folder the runs live in.")
    runs: dict[str, SpecState] = Field(default_factory=dict)


class SuiteObserver:
    """Progress hooks (the CLI draws bars from them); every hook does nothing by default."""

    def planned(self, specs: list[RunSpec], actions: dict[str, Action]) -> None: ...

    def started(self, spec: RunSpec, run_id: str, resumed: bool) -> None: ...

    def event(self, spec: RunSpec, event: RunEvent) -> None: ...

    def evaluating(self, spec: RunSpec) -> None: ...

    def finished(self, spec: RunSpec, record: RunRecord) -> None: ...


def setting_overrides(
    setting: ModelSetting, folder: Path, evaluation: EvaluationOptions, given: CLIOverrides
) -> CLIOverrides:
    """The model flags of one setting, with `given` (e.g. `--base-url`) applied on top."""
    judge = evaluation.mode == "judge"
    endpoint_for = [f"{k}={v}" for k, v in setting.endpoint_for.items()]
    if judge and evaluation.judge_base_url:
        endpoint_for.append(f"judge={evaluation.judge_base_url}")
    base = CLIOverrides(
        model=setting.model,
        model_for=[f"{k}={v}" for k, v in setting.model_for.items()],
        endpoint_for=endpoint_for,
        base_url=setting.base_url,
        model_path=(folder / setting.model_path).resolve() if setting.model_path else None,
        judge_model=evaluation.judge_model if judge else None,
    )
    update: dict[str, Any] = {
        name: getattr(given, name)
        for name in CLIOverrides.model_fields
        if getattr(given, name) not in (None, [])
    }
    for name in ("model_for", "endpoint_for"):
        if name in update:
            update[name] = [*getattr(base, name), *update[name]]
    return base.model_copy(update=update)


def read_state(path: Path) -> SuiteState | None:
    if not path.exists():
        return None
    try:
        return read_model(path, SuiteState)
    except TranscriptError as error:
        raise EvalError(
            error.message, location=path, fix="delete it to start the suite over"
        ) from None


def write_report(report: SuiteReport, out_dir: Path) -> list[Path]:
    paths = [out_dir / name for name in REPORT_FILES]
    atomic_write_text(paths[0], report.model_dump_json(indent=2) + "\n")
    atomic_write_text(paths[1], render_markdown(report))
    atomic_write_text(paths[2], render_html(report))
    return paths


class SuiteRunner:
    """One invocation of a suite. Use `run_suite`; this holds the shared state while it runs."""

    def __init__(
        self,
        loaded: LoadedSuite,
        store: RunStore,
        out_dir: Path,
        parallel: int,
        overrides: CLIOverrides,
        observer: SuiteObserver,
        open_models: OpenModels,
        workers: int | None = 1,
    ) -> None:
        self.loaded = loaded
        self.suite = loaded.suite
        self.store = store
        self.out_dir = out_dir
        self.state_path = out_dir / STATE_FILE
        self.parallel = parallel
        self.slots = asyncio.Semaphore(parallel)
        self.workers_requested = workers
        self.workers: WorkerPool | None = None
        self.observer = observer
        self.open_models = open_models
        self.llm = {
            name: setting_overrides(setting, loaded.path.parent, self.suite.evaluation, overrides)
            for name, setting in self.suite.matrix.models.items()
        }
        self.settings = {name: resolve_settings(llm) for name, llm in self.llm.items()}
        previous = read_state(self.state_path)
        self.state = SuiteState(suite=self.suite.name, transcripts=str(store.root.resolve()))
        if previous is not None:
            self.state.runs = dict(previous.runs)
        self.routers: dict[str, Any] = {}
        self.records: dict[str, RunRecord] = {}
        self.eval_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="suite-eval")
        # Offline scorers of runs in flight, touched only in eval_thread (see _score_turn).
        self.scorers: dict[str, RunScorer] = {}

    # -- state ---------------------------------------------------------------------------------
    def _save_state(self, *, durable: bool = False) -> None:
        # Rewritten at every step of every run: atomic (a killed process leaves the old or the
        # new file) but not fsynced; the suite's last write is durable. A power cut can lose
        # the last steps, and then a re-run resumes those runs from their own checkpoints.
        atomic_write_text(
            self.state_path, self.state.model_dump_json(indent=2) + "\n", durable=durable
        )

    def _set(self, spec: RunSpec, **fields: Any) -> SpecState:
        current = self.state.runs.get(spec.id) or SpecState(
            fingerprint=spec.fingerprint(self.suite)
        )
        updated = current.model_copy(update=fields)
        self.state.runs[spec.id] = updated
        self._save_state()
        return updated

    def _has_request(self, run_id: str | None) -> bool:
        return run_id is not None and (self.store.root / run_id / REQUEST_FILE).exists()

    def _evaluation_fits(self, run_id: str) -> Evaluation | None:
        """The stored evaluation when it was made by this evaluator in this suite's mode."""
        try:
            evaluation = self.store.load_evaluation(run_id)
        except TranscriptError:
            return None
        if evaluation is None or evaluation.evaluator_version != EVALUATOR_VERSION:
            return None
        if ("judge" in evaluation.layers) != (self.suite.evaluation.mode == "judge"):
            return None
        return evaluation

    def plan(self, spec: RunSpec) -> Action:
        entry = self.state.runs.get(spec.id)
        if entry is None or entry.fingerprint != spec.fingerprint(self.suite):
            self.state.runs.pop(spec.id, None)
            return "start"
        if not self._has_request(entry.run_id):
            return "start"
        if entry.status == "complete":
            if entry.evaluated and self._evaluation_fits(entry.run_id or ""):
                return "skip"
            return "evaluate"
        return "resume"

    # -- routers -------------------------------------------------------------------------------
    async def open_routers(self, stack: contextlib.AsyncExitStack, needed: set[str]) -> None:
        shared: dict[str, Any] = {}
        for name in sorted(needed):
            key = self.settings[name].model_dump_json()
            if key not in shared:
                try:
                    shared[key] = await stack.enter_async_context(
                        self.open_models(self.settings[name])
                    )
                except ImpasseError as error:  # endpoint down at the start: its runs fail
                    shared[key] = error
            self.routers[name] = shared[key]

    def session_totals(self) -> CallTotals:
        totals = CallTotals.of_routers(self.routers.values())
        return totals + self.workers.totals() if self.workers is not None else totals

    # -- one spec ------------------------------------------------------------------------------
    def _finish(self, spec: RunSpec, record: RunRecord) -> None:
        self.records[spec.id] = record
        self.observer.finished(spec, record)

    def _partial(self, run_id: str | None) -> Transcript | None:
        try:
            return self.store.load_transcript(run_id) if run_id else None
        except TranscriptError:
            return None

    async def one(self, spec: RunSpec, action: Action) -> None:
        entry = self.state.runs.get(spec.id)
        run_id = entry.run_id if entry else None
        if action == "skip":
            assert run_id is not None
            record = RunRecord(
                spec,
                "complete",
                run_id,
                transcript=self.store.load_transcript(run_id),
                evaluation=self._evaluation_fits(run_id),
            )
            self._finish(spec, record)
            return
        async with self.slots:
            router = self.routers.get(spec.model)
            transcript: Transcript | None = None
            if action in ("start", "resume"):
                if isinstance(router, ImpasseError):
                    self._fail(spec, run_id, router.one_line())
                    return
                try:
                    transcript = await self._simulate(spec, action, run_id, router)
                except ImpasseError as error:
                    self._fail(spec, self.state.runs[spec.id].run_id, error.one_line())
                    return
                run_id = transcript.meta.run_id
            else:
                assert run_id is not None
                transcript = self.store.load_transcript(run_id)
            self.observer.evaluating(spec)
            try:
                evaluation = await self._evaluate(spec, transcript, router)
            except ImpasseError as error:
                self._set(spec, error=f"evaluation failed: {error.one_line()}")
                self._finish(
                    spec,
                    RunRecord(
                        spec, "error", run_id, f"evaluation failed: {error.one_line()}", transcript
                    ),
                )
                return
            self.store.save_evaluation(run_id, evaluation)
            self._set(spec, evaluated=True, error=None)
            self._finish(spec, RunRecord(spec, "complete", run_id, None, transcript, evaluation))

    def _fail(self, spec: RunSpec, run_id: str | None, message: str) -> None:
        self.eval_thread.submit(self.scorers.pop, spec.id, None)  # in eval_thread, like the rest
        self._set(spec, run_id=run_id, status="error", evaluated=False, error=message)
        self._finish(spec, RunRecord(spec, "error", run_id, message, self._partial(run_id)))

    async def _simulate(
        self, spec: RunSpec, action: Action, run_id: str | None, router: Any
    ) -> Transcript:
        if action == "start":
            run_id = run_id or self.store.new_run_id(spec.scenario)
        assert run_id is not None
        self._set(spec, run_id=run_id, status="running", evaluated=False, error=None)
        self.observer.started(spec, run_id, resumed=action == "resume")

        # Score each turn offline as it comes (in the evaluation thread, while the run waits
        # for its next reply), so the run's evaluation is ready when it ends. Scoring every run
        # at its end instead left a queue of whole runs to score once they all finished
        # together: 8 runs in one process took 114% of the critical path instead of 109%.
        score_live = self.suite.evaluation.mode == "offline"

        def on_event(event: RunEvent) -> None:
            self.observer.event(spec, event)
            if score_live and event.turn is not None:
                turn = event.turn
                self.eval_thread.submit(self._score_turn, spec.id, turn.speaker, turn.utterance)

        if self.workers is not None:
            request = spec.request(self.suite, self.llm[spec.model]) if action == "start" else None
            job = SimulationJob(spec_id=spec.id, setting=spec.model, run_id=run_id, request=request)
            await self.workers.simulate(job, on_event)
            transcript = self.store.load_transcript(run_id)
        elif action == "start":
            request = spec.request(self.suite, self.llm[spec.model])
            transcript = await run_scenario(
                request, router, store=self.store, on_event=on_event, run_id=run_id
            )
        else:
            transcript = await resume_run(run_id, router, store=self.store, on_event=on_event)
        self._set(spec, status="complete", error=None)
        return transcript

    def _score_turn(self, spec_id: str, speaker: str, text: str) -> None:
        """In eval_thread: score one turn of a run still in flight."""
        try:
            scorer = self.scorers.get(spec_id)
            if scorer is None:
                scorer = self.scorers[spec_id] = RunScorer(self.loaded.pack)
            scorer.add(speaker, text)
        except Exception:  # the run's evaluation scores this turn again when the run ends
            logger.exception("scoring a turn of %s ahead of its evaluation failed", spec_id)

    def _offline_evaluation(self, spec_id: str, transcript: Transcript) -> Evaluation:
        """In eval_thread: the run's evaluation, from the turns scored so far and the rest."""
        scorer = self.scorers.pop(spec_id, None) or RunScorer(self.loaded.pack)
        return scorer.evaluation(transcript)

    async def _evaluate(self, spec: RunSpec, transcript: Transcript, router: Any) -> Evaluation:
        options = self.suite.evaluation
        if options.mode == "offline":
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self.eval_thread, self._offline_evaluation, spec.id, transcript
            )
        judge = (
            router.for_judge()
            if router is not None and not isinstance(router, ImpasseError)
            else None
        )
        if judge is None:
            raise EvalError("no judge model available", field="evaluation.judge_model")
        return await aevaluate_transcript(
            transcript, self.loaded.pack, judge=judge, judge_model=options.judge_model, k=options.k
        )

    # -- the whole suite -----------------------------------------------------------------------
    async def run(self) -> SuiteReport:
        specs = self.loaded.specs
        actions = {spec.id: self.plan(spec) for spec in specs}
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._save_state()
        self.observer.planned(specs, actions)
        judge = self.suite.evaluation.mode == "judge"
        simulated = {s.model for s in specs if actions[s.id] in ("start", "resume")}
        # The settings of the models that simulate: they size the pool and are all it opens.
        to_simulate = {m: self.settings[m] for m in sorted(simulated)}
        count = worker_count(self.workers_requested, self.parallel, to_simulate)
        # Routers in this process: for simulations when they run here, for the judge.
        needed = set() if count > 1 else set(simulated)
        if judge:
            needed |= {s.model for s in specs if actions[s.id] != "skip"}
        try:
            async with contextlib.AsyncExitStack() as stack:
                if count > 1:  # fork before this suite starts threads of its own
                    self.workers = await stack.enter_async_context(
                        WorkerPool(count, to_simulate, self.store, self.open_models)
                    )
                # The offline model loads (1 s from the cache) or trains (6 s on first use) in
                # the evaluation thread while the first turns are simulated; every evaluation
                # queues behind it there.
                training: asyncio.Future[Evaluator] | None = None
                if any(a != "skip" for a in actions.values()) and not judge:
                    training = asyncio.get_running_loop().run_in_executor(
                        self.eval_thread, Evaluator.for_pack, self.loaded.pack
                    )
                await self.open_routers(stack, needed)
                # What exists now (pack, clients) lives as long as the suite: keep the
                # collector from rescanning it while the runs allocate (a full collection took
                # 60-130 ms in a 32-run suite). Undone when the suite ends.
                gc.freeze()
                async with asyncio.TaskGroup() as group:
                    for spec in specs:
                        group.create_task(self.one(spec, actions[spec.id]))
                    if training is not None:
                        await training  # bad training data stops the suite at once
            session = self.session_totals()
        finally:
            gc.unfreeze()
            self.eval_thread.shutdown(wait=False)
            self._save_state(durable=True)
        report = build_report(self.loaded, [self.records[s.id] for s in specs], session)
        write_report(report, self.out_dir)
        return report


async def run_suite(
    loaded: LoadedSuite,
    *,
    store: RunStore,
    out_dir: Path,
    parallel: int = 4,
    overrides: CLIOverrides | None = None,
    observer: SuiteObserver | None = None,
    open_models: OpenModels = open_router,
    workers: int | None = 1,
) -> SuiteReport:
    """Run (or resume) every spec of the suite and write the report folder.

    `workers` > 1 runs the simulations in that many forked processes (see `suite_workers`);
    None picks `auto_workers()` (one per core, at most four; one for the embedded model).
    """
    runner = SuiteRunner(
        loaded,
        store,
        out_dir,
        parallel,
        overrides or CLIOverrides(),
        observer or SuiteObserver(),
        open_models,
        workers,
    )
    return await runner.run()
