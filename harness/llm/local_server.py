"""The embedded llama.cpp server (xllamacpp) on 127.0.0.1, on a free port.

It runs in a child Python process (`python -m harness.llm.local_server`) whose stdout/stderr go
to `<cache>/local-server.log`. Why not in our own process: llama.cpp logs straight to file
descriptor 2, and redirecting fd 2 in-process would also swallow impasse's own one-line errors
(and fight pytest's capture). A child also keeps a llama.cpp crash from taking the run with it.

- `local_endpoint(settings)`: for one `open_router`: reuse a live `impasse local start` server
  serving the same GGUF, else start a private one and stop it on exit.
- `start_detached / status / stop`: the long-lived server behind `impasse local ...`; its state
  (pid, url, model) is `<cache>/local-server.json`.

Slots: llama.cpp splits `n_ctx` evenly across `n_parallel` slots, and each slot keeps its own
prompt cache. So `n_ctx = n_parallel * ctx_per_slot` (defaults 8 x 4096; SmolLM2 was trained on
8192), which gives each alternating speaker a slot whose cached prefix it can reuse.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from harness.errors import ConfigError, EndpointError
from harness.files import atomic_write_text
from harness.llm.config import LLMSettings, LocalSettings
from harness.llm.local_model import check_model_path, ensure_model, served_name

STATE_FILE = "local-server.json"
LOG_FILE = "local-server.log"
START_TIMEOUT_S = 120.0
INSTALL_HINT = (
    "pip install 'impasse[local]', or configure an endpoint (OPENAI_BASE_URL / --base-url)"
)


@dataclass(frozen=True)
class ServerInfo:
    pid: int
    url: str  # base URL including /v1
    model: str  # the id it serves
    model_path: str
    log: str
    n_ctx: int
    n_parallel: int
    threads: int
    started_at: float


def require_xllamacpp() -> None:
    if importlib.util.find_spec("xllamacpp") is None:
        raise ConfigError(
            "the embedded model needs xllamacpp, which is not installed", fix=INSTALL_HINT
        )


def resolve_model(local: LocalSettings, progress: Callable[[str], None] | None = None) -> Path:
    if local.model_path is not None:
        return check_model_path(local.model_path)
    return ensure_model(progress)


def _command(model_path: Path, local: LocalSettings, ready: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "harness.llm.local_server",
        "--model-path",
        str(model_path),
        "--alias",
        served_name(None if local.model_path is None else model_path),
        "--n-parallel",
        str(local.n_parallel),
        "--ctx-per-slot",
        str(local.ctx_per_slot),
        "--threads",
        str(local.threads),
        "--ready-file",
        str(ready),
    ]


def _spawn(
    settings: LLMSettings, ready: Path, *, detached: bool, progress: Callable[[str], None] | None
) -> tuple[subprocess.Popen[bytes], ServerInfo]:
    require_xllamacpp()
    model_path = resolve_model(settings.local, progress)
    folder = settings.cache_dir
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / LOG_FILE
    ready.unlink(missing_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            _command(model_path, settings.local, ready),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=detached,
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if ready.exists():
            try:
                info = ServerInfo(**json.loads(ready.read_text()))
                return process, replace(info, log=str(log_path))
            except (ValueError, TypeError):
                pass  # half-written: try again
        if process.poll() is not None:
            raise EndpointError(
                f"the embedded model server exited during start-up (code {process.returncode})",
                fix=f"see {log_path}",
            )
        time.sleep(0.05)
    _terminate(process.pid, process)
    raise EndpointError("the embedded model server did not start in time", fix=f"see {log_path}")


@contextlib.asynccontextmanager
async def local_endpoint(settings: LLMSettings) -> AsyncIterator[ServerInfo]:
    """A local server for the duration of the block (reusing a long-lived one when it fits)."""
    running = status(settings.cache_dir)
    wanted = settings.local.model_path
    if running is not None and (wanted is None or Path(running.model_path) == wanted.expanduser()):
        yield running
        return
    import asyncio

    with tempfile.TemporaryDirectory(prefix="impasse-server-") as tmp:
        process, info = await asyncio.to_thread(
            _spawn, settings, Path(tmp) / "ready.json", detached=False, progress=None
        )
        try:
            yield info
        finally:
            await asyncio.to_thread(_terminate, process.pid, process)


def start_detached(
    settings: LLMSettings, progress: Callable[[str], None] | None = None
) -> ServerInfo:
    """`impasse local start`: a server that outlives this command; returns its info."""
    running = status(settings.cache_dir)
    if running is not None:
        return running
    state = settings.cache_dir / STATE_FILE
    _, info = _spawn(settings, state, detached=True, progress=progress)
    return info


def status(folder: Path) -> ServerInfo | None:
    """The long-lived server if it is alive and answering, else None (stale state removed)."""
    state = folder / STATE_FILE
    if not state.exists():
        return None
    try:
        info = ServerInfo(**json.loads(state.read_text()))
    except (ValueError, TypeError):
        state.unlink(missing_ok=True)
        return None
    if not _pid_alive(info.pid) or not _answers(info.url):
        state.unlink(missing_ok=True)
        return None
    return info


def stop(folder: Path) -> ServerInfo | None:
    """Stop the long-lived server (only the pid recorded in our state file)."""
    info = status(folder)
    if info is None:
        return None
    _terminate(info.pid, None)
    (folder / STATE_FILE).unlink(missing_ok=True)
    return info


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/models", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _terminate(pid: int, process: subprocess.Popen[bytes] | None, grace_s: float = 10.0) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if process is not None:
            if process.poll() is not None:
                return
        elif not _pid_alive(pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    if process is not None:
        process.wait(timeout=5)


# -- the child process -------------------------------------------------------------------------


def serve(
    model_path: str, alias: str, n_parallel: int, ctx_per_slot: int, threads: int, ready: Path
) -> None:
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = model_path
    params.model_alias = {alias}
    params.n_parallel = n_parallel
    params.n_ctx = n_parallel * ctx_per_slot
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.hostnames = ["127.0.0.1"]
    params.port = 0  # a free port; the address is read back below
    stop_event = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop_event.set())
    signal.signal(signal.SIGINT, lambda *_: stop_event.set())
    server = xllamacpp.Server(params)
    info = ServerInfo(
        pid=os.getpid(),
        url=f"{server.listening_address}/v1",
        model=alias,
        model_path=model_path,
        log=str(ready.parent / LOG_FILE) if ready.name == STATE_FILE else "",
        n_ctx=params.n_ctx,
        n_parallel=n_parallel,
        threads=threads,
        started_at=time.time(),
    )
    atomic_write_text(ready, json.dumps(asdict(info)))
    print(f"impasse: serving {alias} at {info.url}", flush=True)
    while not stop_event.wait(0.5):
        pass
    del server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m harness.llm.local_server")
    parser.add_argument("--model-path", required=True)
    parser.add_argument("--alias", required=True)
    parser.add_argument("--n-parallel", type=int, default=4)
    parser.add_argument("--ctx-per-slot", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--ready-file", type=Path, required=True)
    args = parser.parse_args(argv)
    serve(
        args.model_path,
        args.alias,
        args.n_parallel,
        args.ctx_per_slot,
        args.threads,
        args.ready_file,
    )


if __name__ == "__main__":
    main()
