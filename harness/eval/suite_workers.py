"""A suite's simulations in worker processes (`impasse suite run --workers N`; by default one
per core, at most four).

One Python process spends roughly 10 ms of CPU per model turn (SDK and HTTP, LangGraph, the
checkpoint), so with dozens of runs in flight against a fast endpoint a single event loop, not
the endpoint, sets the pace. `WorkerPool` forks N processes when a suite starts; each runs its
own event loop and routers and takes simulation jobs from the suite runner over a pipe,
sending back progress events, log lines and the outcome. The parent keeps everything else:
suite state, evaluation, report, progress bars.

- The per-endpoint concurrency limit is split evenly across workers (each gets
  `limit // N`, and N is capped at the smallest limit), so the suite as a whole never has more
  requests in flight than the limit allows.
- A worker exits as soon as its pipe to the parent closes, so when the parent ends or is
  killed no run goes on unattended; the interrupted runs resume from their checkpoints.
- A worker that dies fails its runs with a clear message; the suite records them as errors and
  a re-run resumes them.

Workers are forked, not spawned: a fork starts in milliseconds with the parent's imports,
where a fresh interpreter would add a second or more to every suite. Platforms without
`fork` run the suite in one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict

from harness.errors import EndpointError, ImpasseError
from harness.eval.report import CallTotals
from harness.graph.runner import OnEvent, RunEvent, RunRequest, resume_run, run_scenario
from harness.llm.client import tls_context
from harness.llm.config import LLMSettings
from harness.llm.router import needs_local_server, plan_targets
from harness.transcript.store import RunStore

logger = logging.getLogger("harness.suite")

OpenModels = Callable[[LLMSettings], AbstractAsyncContextManager[Any]]
PARENT_GONE_EXIT = 3


class SimulationJob(BaseModel):
    """Run (or resume, when `request` is None) one spec's simulation under `run_id`."""

    model_config = ConfigDict(frozen=True)

    spec_id: str
    setting: str
    run_id: str
    request: RunRequest | None = None


class WorkerReport(BaseModel):
    """One message from a worker to the parent."""

    kind: Literal["event", "done", "failed", "log", "totals"]
    spec_id: str = ""
    event: RunEvent | None = None
    message: str = ""
    logger: str = ""
    level: int = logging.INFO
    totals: CallTotals | None = None


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


# More than this gave nothing on benchmarks/bench_suite.py (8 runs: 2, 4 and 8 workers alike).
AUTO_WORKERS_MAX = 4


def auto_workers() -> int:
    """The default worker count: one per core, at most AUTO_WORKERS_MAX."""
    return max(1, min(os.cpu_count() or 1, AUTO_WORKERS_MAX))


def worker_count(requested: int | None, parallel: int, settings: dict[str, LLMSettings]) -> int:
    """How many workers a suite gets: at most one per run in flight and per slot of the
    tightest endpoint limit; 1 (in-process) when a setting needs the embedded model.
    `requested` None means the default, `auto_workers()`, which falls back to one process
    for the embedded model without a warning."""
    chosen = auto_workers() if requested is None else requested
    if chosen <= 1 or not can_fork() or not settings:
        return 1
    if any(needs_local_server(plan_targets(s)) for s in settings.values()):
        if requested is not None:
            logger.warning("--workers ignored: the embedded model serves one process")
        return 1
    return max(1, min(chosen, parallel, *(s.max_concurrency for s in settings.values())))


# -- the parent's side -----------------------------------------------------------------------


class _Worker:
    def __init__(self, index: int, process: Any, conn: Connection) -> None:
        self.index = index
        self.process = process
        self.conn = conn
        self.jobs: dict[str, tuple[asyncio.Future[None], OnEvent]] = {}
        self.totals: CallTotals | None = None
        self.alive = True


class WorkerPool:
    """N forked workers that run simulations; use `async with WorkerPool(...) as pool`."""

    def __init__(
        self,
        count: int,
        settings: dict[str, LLMSettings],
        store: RunStore,
        open_models: OpenModels,
    ) -> None:
        self.count = count
        self.settings = {
            name: s.model_copy(update={"max_concurrency": max(1, s.max_concurrency // count)})
            for name, s in settings.items()
        }
        self.store_root = store.root
        self.open_models = open_models
        self.workers: list[_Worker] = []
        self._ended: asyncio.Event | None = None

    async def __aenter__(self) -> Self:
        self._start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is None:
            await self.close()
        else:  # interrupted or failed: stop the runs now; their checkpoints are intact
            self.kill()

    def kill(self) -> None:
        for worker in self.workers:
            if worker.alive:
                worker.process.kill()
                self._lost(worker)
            worker.conn.close()

    def _start(self) -> None:
        ctx = multiprocessing.get_context("fork")
        pipes = [ctx.Pipe() for _ in range(self.count)]
        # Python's advice for fork without exec: freeze the heap first, so collections in the
        # workers neither rescan nor copy-on-write the parent's long-lived objects.
        gc.freeze()
        tls_context()  # built once here, not once per worker (25-48 ms each before its first call)
        loop = asyncio.get_running_loop()
        for index, (parent_end, child_end) in enumerate(pipes):
            # The child keeps only its own end: every other copy would keep a pipe open after
            # its owner died, and nobody would notice.
            stray = [p.fileno() for p, _ in pipes] + [
                c.fileno() for i, (_, c) in enumerate(pipes) if i != index
            ]
            process = ctx.Process(
                target=_worker_main,
                args=(child_end, stray, self.settings, self.store_root, self.open_models),
                name=f"impasse-suite-worker-{index}",
                daemon=True,
            )
            process.start()
            self.workers.append(_Worker(index, process, parent_end))
        for _, child_end in pipes:
            child_end.close()
        for worker in self.workers:
            loop.add_reader(worker.conn.fileno(), self._readable, worker)

    async def simulate(self, job: SimulationJob, on_event: OnEvent) -> None:
        """Run `job` on the least busy worker; raises the run's error as an ImpasseError."""
        alive = [w for w in self.workers if w.alive]
        if not alive:
            raise EndpointError(
                "every suite worker process has died", fix="run the suite again to resume"
            )
        worker = min(alive, key=lambda w: len(w.jobs))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        worker.jobs[job.spec_id] = (done, on_event)
        worker.conn.send(job)
        await done

    def totals(self) -> CallTotals:
        """The calls every worker made (each reports its totals when it ends)."""
        return sum((w.totals for w in self.workers if w.totals is not None), CallTotals())

    def _readable(self, worker: _Worker) -> None:
        try:
            while worker.conn.poll():
                self._handle(worker, worker.conn.recv())
        except (EOFError, OSError):
            self._lost(worker)

    def _handle(self, worker: _Worker, report: WorkerReport) -> None:
        if report.kind == "log":
            logging.getLogger(report.logger or "harness").log(report.level, "%s", report.message)
            return
        if report.kind == "totals":  # its last message: it has no run left, nothing to write
            worker.totals = report.totals
            self._check_ended()
            return
        job = worker.jobs.get(report.spec_id)
        if job is None:
            return
        done, on_event = job
        if report.kind == "event" and report.event is not None:
            on_event(report.event)
            return
        del worker.jobs[report.spec_id]
        if done.done():
            return
        if report.kind == "done":
            done.set_result(None)
        else:
            done.set_exception(EndpointError(report.message))

    def _lost(self, worker: _Worker) -> None:
        """The worker's pipe closed: it finished, or it died with runs in flight."""
        if not worker.alive:
            return
        worker.alive = False
        with contextlib.suppress(ValueError, OSError):
            asyncio.get_running_loop().remove_reader(worker.conn.fileno())
        # With no run in flight there is nothing to report: multiprocessing reaps it later.
        if worker.jobs:  # it died during runs: their error names its exit code
            worker.process.join(timeout=5)
            code = worker.process.exitcode
            for spec_id, (done, _) in list(worker.jobs.items()):
                if not done.done():
                    done.set_exception(
                        EndpointError(
                            f"suite worker {worker.index} died (exit code {code}) during the run",
                            fix="its checkpoint is intact; run the suite again to resume it",
                        )
                    )
                del worker.jobs[spec_id]
        self._check_ended()

    def _check_ended(self) -> None:
        """While closing: every worker has sent its totals or died."""
        if self._ended is not None and all(
            w.totals is not None or not w.alive for w in self.workers
        ):
            self._ended.set()

    async def close(self) -> None:
        """Tell every worker there is no more work, wait for their totals, then stop them.

        A worker that has sent its totals has finished every run and written every file; what
        it has left is closing its HTTP clients and exiting, which the suite need not wait for
        (that took 15-20 ms of every suite's wall time)."""
        self._ended = asyncio.Event()
        for worker in self.workers:
            if worker.alive:
                with contextlib.suppress(OSError):
                    worker.conn.send(None)
        self._check_ended()
        if not self._ended.is_set():
            try:
                await asyncio.wait_for(self._ended.wait(), timeout=30)
            except TimeoutError:
                logger.warning("suite workers did not end within 30 s; stopping them")
        self.kill()


# -- the worker's side -----------------------------------------------------------------------


class _PipeLogHandler(logging.Handler):
    """Log records go to the parent, which renders them (the parent owns the terminal)."""

    def __init__(self, send: Callable[[WorkerReport], None]) -> None:
        super().__init__()
        self.send = send

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + logging.Formatter().formatException(record.exc_info)
            self.send(
                WorkerReport(kind="log", logger=record.name, level=record.levelno, message=message)
            )
        except Exception:  # noqa: BLE001 - logging must never take the worker down
            self.handleError(record)


def _worker_main(
    conn: Connection,
    stray_fds: list[int],
    settings: dict[str, LLMSettings],
    store_root: Path,
    open_models: OpenModels,
) -> None:
    for fd in stray_fds:
        with contextlib.suppress(OSError):
            os.close(fd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.set_wakeup_fd(-1)  # the parent's event loop may have set one; it is not ours
    lock = threading.Lock()  # runs save transcripts from threads, and those may log

    def send(report: WorkerReport) -> None:
        with lock:
            conn.send(report)

    root = logging.getLogger()
    for handler in list(root.handlers):  # the parent's handlers hold the parent's terminal
        root.removeHandler(handler)
    root.addHandler(_PipeLogHandler(send))
    asyncio.run(_serve(conn, send, settings, RunStore(store_root), open_models))


async def _serve(
    conn: Connection,
    send: Callable[[WorkerReport], None],
    settings: dict[str, LLMSettings],
    store: RunStore,
    open_models: OpenModels,
) -> None:
    loop = asyncio.get_running_loop()
    jobs: asyncio.Queue[SimulationJob | None] = asyncio.Queue()

    def readable() -> None:
        try:
            while conn.poll():
                jobs.put_nowait(conn.recv())
        except (EOFError, OSError):
            os._exit(PARENT_GONE_EXIT)  # the parent is gone: stop at once, checkpoints intact

    loop.add_reader(conn.fileno(), readable)
    routers: dict[str, Any] = {}  # keyed like SuiteRunner.open_routers: equal settings share
    opening: dict[str, asyncio.Lock] = {}
    async with contextlib.AsyncExitStack() as stack:

        async def router_for(name: str) -> Any:
            key = settings[name].model_dump_json()
            async with opening.setdefault(key, asyncio.Lock()):
                if key not in routers:
                    try:
                        routers[key] = await stack.enter_async_context(open_models(settings[name]))
                    except ImpasseError as error:
                        routers[key] = error
            return routers[key]

        async def run(job: SimulationJob) -> None:
            def on_event(event: RunEvent) -> None:
                send(WorkerReport(kind="event", spec_id=job.spec_id, event=event))

            try:
                router = await router_for(job.setting)
                if isinstance(router, ImpasseError):
                    raise router
                if job.request is not None:
                    await run_scenario(
                        job.request, router, store=store, on_event=on_event, run_id=job.run_id
                    )
                else:
                    await resume_run(job.run_id, router, store=store, on_event=on_event)
            except ImpasseError as error:
                send(WorkerReport(kind="failed", spec_id=job.spec_id, message=error.one_line()))
                return
            except Exception as error:  # a bug: report it, keep the other runs going
                logger.exception("run %s failed", job.run_id)
                send(
                    WorkerReport(
                        kind="failed",
                        spec_id=job.spec_id,
                        message=f"internal error: {type(error).__name__}: {error}",
                    )
                )
                return
            send(WorkerReport(kind="done", spec_id=job.spec_id))

        async with asyncio.TaskGroup() as group:
            # Open every endpoint now (client and preflight), while the first jobs are on their
            # way, instead of when a job first needs it; a job waits on the same lock.
            for name in settings:
                group.create_task(router_for(name))
            while (job := await jobs.get()) is not None:
                group.create_task(run(job))
        send(WorkerReport(kind="totals", totals=CallTotals.of_routers(routers.values())))
