"""Running a sweep on Ray: start or join a cluster, submit the runs, collect, stop cleanly on Ctrl-C."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .._checks import check_int, check_number, write_atomic
from ..autosave import RunBusy, refuse_busy
from . import shipping
from .grid import GRID_FILE, GRID_FORMAT, SCALE_EXTRA, RunSpec, SweepError, expand, load_grid
from .summary import Board, SweepResult, _attempts, _write_summary, check_sweep_dir, summarize
from .task import run_state


def import_ray() -> Any:
    """The ``ray`` module, or a one-line error naming the extra that installs it."""
    try:
        import ray
    except ImportError as err:
        raise SweepError(
            f"crlqas sweep needs Ray, which is not installed ({err}); install it with {SCALE_EXTRA}"
        ) from None
    return ray


def _worker_env(extra: Mapping[str, str] | None) -> dict[str, str]:
    """The environment of the workers: the driver's kit settings, so that a run equals the same
    run made by ``crlqas search`` here (the CPU device count, XLA's emitters, the compilation cache)."""
    from .._cores import ENV_DEVICES, requested_devices

    env = {ENV_DEVICES: str(requested_devices())}
    for name in (
        "CRLQAS_XLA_EMITTERS",
        "CRLQAS_NO_COMPILE_CACHE",
        "XDG_CACHE_HOME",
        "JAX_COMPILATION_CACHE_DIR",
        "JAX_PLATFORMS",
    ):
        if os.environ.get(name):
            env[name] = os.environ[name]
    env.update(extra or {})
    return {k: str(v) for k, v in env.items()}


def _start_ray(ray: Any, address: str | None, num_cpus: int | None, env: dict[str, str]) -> None:
    runtime_env = {"env_vars": env}  # the kit's code travels by value (shipping.py), not as py_modules
    quiet = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.ERROR}
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage-stats notice on every sweep
    if address:
        _token_auth_like_ray_start()
        ray.init(address=address, runtime_env=runtime_env, **quiet)
    else:
        ray.init(num_cpus=num_cpus, object_store_memory=200 * 2**20, runtime_env=runtime_env, **quiet)


def _token_auth_like_ray_start() -> None:
    """Send Ray's authentication token when joining a cluster by address, if this machine has one.

    ``ray start`` turns token authentication on when ``RAY_AUTH_MODE`` is unset and a token
    exists (``~/.ray/auth_token``, which a local ``ray.init()`` creates); ``ray.init(address=...)``
    does not, and would then be refused by such a head. The same rule here; a cluster without
    authentication accepts the token too. An explicit ``RAY_AUTH_MODE`` is left alone."""
    if os.environ.get("RAY_AUTH_MODE") is not None:
        return
    path = os.environ.get("RAY_AUTH_TOKEN_PATH") or str(Path.home() / ".ray" / "auth_token")
    if os.environ.get("RAY_AUTH_TOKEN") or Path(path).is_file():
        os.environ["RAY_AUTH_MODE"] = "token"
        try:  # Ray reads its configuration once: refresh it, as ray start does (Ray 2.60)
            from ray._raylet import Config

            Config.initialize("")
        except (ImportError, AttributeError):
            pass


# ------------------------------------------------------------------------------ results


def sweep(
    grid: Mapping[str, Any] | str | Path | Sequence[RunSpec],
    out: str | Path,
    *,
    num_cpus: int | None = None,
    cpus_per_run: float = 1,
    max_retries: int = 3,
    address: str | None = None,
    save_every: float = 30.0,
    env: Mapping[str, str] | None = None,
    pin_cpus: bool = False,
    progress: bool = True,
    stream: Any = None,
    only: Sequence[str] | None = None,
) -> SweepResult:
    """Run every (configuration, seed) of ``grid`` as a Ray task; returns a :class:`SweepResult`
    and writes ``out/sweep_summary.json``.

    ``grid``: a mapping (:func:`expand`), a TOML file, or runs from :func:`expand`. ``out``: the
    sweep's directory (new, empty, or holding this sweep). ``num_cpus``: the local Ray instance's
    CPUs (default: all); ``address`` (or ``RAY_ADDRESS``): join that cluster instead.
    ``cpus_per_run``: CPUs Ray reserves per task. ``max_retries``: retries of a task whose worker
    died (each resumes from the run's last save). ``save_every``: seconds between a run's saves.
    ``env``: more environment variables for the workers. ``pin_cpus``: pin each worker process to
    ``cpus_per_run`` cores of its own (a whole number; :func:`~crlqas_kit.sweep.task.pin_process`).
    ``progress``: the live table on ``stream`` (default stderr). ``only``: names of the grid's runs
    to make now (default all); the others are checked and recorded as usual, and left as they are
    (an unfinished one is neither resumed nor lost: a later sweep of the grid makes it).

    Checks everything first (one-line :class:`SweepError`s, before Ray starts), skips finished
    runs, and starts Ray only when there is work. Ctrl-C (KeyboardInterrupt) cancels the tasks,
    waits for the running searches to save, and returns with ``interrupted=True``; a second
    Ctrl-C stops waiting.
    """
    t_start = time.monotonic()
    if isinstance(grid, str | Path):
        grid = load_grid(grid)
    runs = list(grid) if isinstance(grid, Sequence) and all(isinstance(r, RunSpec) for r in grid) else expand(grid)
    if not runs:
        raise SweepError("the grid is empty: give at least one problem and one seed")
    try:
        check_int(max_retries, "max_retries", minimum=0)
        num_cpus = None if num_cpus is None else check_int(num_cpus, "num_cpus")
        check_number(cpus_per_run, "cpus_per_run")
        check_number(save_every, "save_every", strict=False, unit="seconds")
    except ValueError as err:
        raise SweepError(str(err)) from None
    if pin_cpus and float(cpus_per_run) != int(cpus_per_run):
        raise SweepError(f"pinning needs a whole number of CPUs per run, got {cpus_per_run!r}")
    pin = int(cpus_per_run) if pin_cpus else 0
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address and num_cpus is not None:
        raise SweepError(
            "num_cpus sets up a local Ray instance; a cluster's nodes set theirs with ray start --num-cpus"
        )
    names = {run.name for run in runs}
    selected = names
    if only is not None:
        given, only = only, None if isinstance(only, str) else list(only)  # a generator is read once
        if not only or not all(isinstance(name, str) for name in only):
            raise SweepError(f"only must be a non-empty list of run names, got {given!r}")
        unknown = sorted(set(only) - names)
        if unknown:
            raise SweepError(f"only names runs not in the grid: {unknown}; the grid's runs: {sorted(names)}")
        selected = set(only)
    out = Path(out)
    recorded = check_sweep_dir(out, runs)
    states = {run.name: run_state(out / run.name, run) for run in runs}
    todo = [run for run in runs if states[run.name] != "finished" and run.name in selected]
    for run in todo:  # a run another process is writing (another sweep or search): refused, not doubled
        try:
            refuse_busy(out / run.name)
        except RunBusy as err:
            raise SweepError(f"run {run.name}: {err}") from None
    ray = import_ray() if todo else None  # before anything is written
    out.mkdir(parents=True, exist_ok=True)
    grid_record = [*(r for r in recorded if r["name"] not in names), *(r.to_dict() for r in runs)]
    write_atomic(out / GRID_FILE, json.dumps({"format": GRID_FORMAT, "runs": grid_record}, indent=1) + "\n")

    status = {run.name: "skipped" for run in runs if states[run.name] == "finished"}
    board = Board(runs, out, stream, progress)
    for name in status:
        board.set(name, "skipped")
    errors: dict[str, str] = {}
    timings: dict[str, Any] = {"submitted": {}, "attempts_before": {}, "ray_init_seconds": None}
    interrupted = False
    left = [run.name for run in runs if states[run.name] != "finished" and run.name not in selected]
    for name in left:
        board.set(name, "not run")
    if left:
        board.note(f"sweep: {len(left)} unfinished runs not selected (--only / only=): left as they are")
    if not todo:
        board.note(
            f"sweep: the selected runs of {out} are finished: nothing to do"
            if left
            else f"sweep: all {len(runs)} runs of {out} are finished: nothing to do"
        )
    else:
        board.note(
            f"sweep: {len(todo)} of {len(runs)} runs to make ({len(status)} finished, "
            f"{sum(states[r.name] == 'partial' for r in todo)} to resume"
            + (f", {len(left)} not selected" if left else "")
            + f") in {out}"
        )
        interrupted = _drive(
            ray,
            todo,
            out,
            address,
            num_cpus,
            cpus_per_run,
            max_retries,
            save_every,
            env,
            pin,
            board,
            status,
            errors,
            timings,
        )
    seconds = time.monotonic() - t_start
    rows = []
    for run in runs:
        row = {
            "name": run.name,
            "configuration": run.configuration,
            "seed": run.seed,
            "status": status.get(run.name, "not run"),
        }
        if run.name in errors:
            row["error"] = errors[run.name]
        attempts = _attempts(out, run.name)
        row["attempts"] = len(attempts)
        if run.name in timings["submitted"]:
            row["submitted"] = timings["submitted"][run.name]
            mine = attempts[timings["attempts_before"][run.name] :]  # this sweep's attempts
            if mine:
                row["started"] = mine[0].get("started")
                row["first_episode"] = next((a["first_episode"] for a in mine if "first_episode" in a), None)
                row["finished"] = mine[-1].get("finished")
        rows.append(row)
    result = SweepResult(out, rows, summarize(out, runs, status), seconds, interrupted, timings)
    _write_summary(result, runs)
    board.refresh(force=True)
    return result


def _drive(
    ray, todo, out, address, num_cpus, cpus_per_run, max_retries, save_every, env, pin, board, status, errors, timings
) -> bool:
    """Submit the runs to Ray, follow them, shut Ray down; True when stopped by Ctrl-C."""
    # one read of the sources: what every worker runs, whatever happens to the checkout meanwhile
    payload, code = shipping.pack(Path(__file__).resolve().parents[1])
    t0 = time.monotonic()
    try:
        _start_ray(ray, address, num_cpus, _worker_env(env))
    except Exception as err:  # e.g. no cluster at the address: one line, not Ray's traceback
        where = f"join the Ray cluster at {address}" if address else "start a local Ray instance"
        raise SweepError(
            f"cannot {where}: {type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else ''}"
        ) from None
    timings["ray_init_seconds"] = time.monotonic() - t0
    interrupted = False
    old_term = None
    if threading.current_thread() is threading.main_thread():  # SIGTERM (a batch system's stop) as Ctrl-C
        old_term = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        from ray import cloudpickle

        cloudpickle.register_pickle_by_value(shipping)  # a worker runs it before importing crlqas_kit
        shipped = ray.put(payload)
        task = ray.remote(num_cpus=cpus_per_run, max_retries=max_retries)(shipping.run_shipped)
        where = str(out.resolve())
        pending: dict[Any, RunSpec] = {}
        seen: dict[str, int] = {}  # attempts recorded before this sweep's submission
        resubmitted: dict[str, int] = {}

        def submit(run: RunSpec) -> None:
            seen[run.name] = len(_attempts(out, run.name))
            timings["attempts_before"].setdefault(run.name, seen[run.name])
            timings["submitted"].setdefault(run.name, time.time())
            pending[task.remote(shipped, code, run.to_dict(), where, float(save_every), code, pin)] = run
            board.set(run.name, "pending")

        for run in submission_order(todo):
            submit(run)
        board.refresh()
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=2.0)
                for ref in ready:
                    run = pending.pop(ref)
                    _collect(ray, ref, run, board, status, errors)
                    # stopped by a signal the sweep did not send (e.g. SIGTERM from the node): once more
                    if status[run.name] == "interrupted" and resubmitted.get(run.name, 0) < max_retries:
                        resubmitted[run.name] = resubmitted.get(run.name, 0) + 1
                        board.note(f"sweep: {run.name} was stopped by a signal; submitted again to continue")
                        submit(run)
                for run in pending.values():
                    attempts = _attempts(out, run.name)
                    if len(attempts) > seen[run.name] and "finished" not in attempts[-1]:
                        board.set(run.name, "running")
                board.refresh()
        except KeyboardInterrupt:
            interrupted = True
            board.note("sweep: interrupted: cancelling; running searches save and stop (Ctrl-C again: do not wait)")
            for ref in pending:
                ray.cancel(ref)
            try:
                while pending:
                    ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=2.0)
                    for ref in ready:
                        _collect(ray, ref, pending.pop(ref), board, status, errors, cancelled=True)
            except KeyboardInterrupt:
                pass
            for run in pending.values():
                status.setdefault(run.name, "interrupted")
            board.note(f"sweep: stopped; every run keeps its last save: run the same sweep again to continue ({out})")
    finally:
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
        with contextlib.suppress(Exception):  # as before this sweep: shipping pickled by reference
            from ray import cloudpickle

            cloudpickle.unregister_pickle_by_value(shipping)
        ray.shutdown()
    return interrupted


def submission_order(runs: Sequence[RunSpec]) -> list[RunSpec]:
    """The runs taking turns over their configurations (the first seed of each, then the second, ...):
    the first tasks compile different configurations side by side and the later ones find them in
    the compilation cache, and every configuration has results early."""
    groups: dict[str, list[RunSpec]] = {}
    for run in runs:
        groups.setdefault(run.configuration, []).append(run)
    order = []
    for i in range(max(len(g) for g in groups.values())):
        order += [g[i] for g in groups.values() if i < len(g)]
    return order


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _collect(ray, ref, run: RunSpec, board: Board, status, errors, cancelled: bool = False) -> None:
    """The outcome of one task into ``status`` (and ``errors``: one line per failed run)."""
    try:
        value = ray.get(ref)
    except ray.exceptions.TaskCancelledError:
        status[run.name] = "interrupted"
    except ray.exceptions.RayTaskError as err:  # the task raised: its own error, in one line
        cause = getattr(err, "cause", None) or err
        if isinstance(cause, KeyboardInterrupt) or cancelled:
            status[run.name] = "interrupted"
        else:
            status[run.name] = "failed"
            text = str(cause).strip()
            errors[run.name] = f"{type(cause).__name__}: {text.splitlines()[-1] if text else ''}"
            board.note(f"sweep: {run.name} failed: {errors[run.name]}")
    except ray.exceptions.RayError as err:  # the worker died more often than max_retries, node lost, ...
        status[run.name] = "interrupted" if cancelled else "failed"
        if not cancelled:
            text = str(err).strip()
            errors[run.name] = f"{type(err).__name__}: {text.splitlines()[0] if text else ''}"
            board.note(f"sweep: {run.name} failed: {errors[run.name]}")
    else:
        status[run.name] = value["status"]
        if value["status"] == "finished":
            resumed = value.get("resumed_from")
            board.note(f"sweep: {run.name} finished" + (f" (resumed at episode {resumed})" if resumed else ""))
    board.set(run.name, status[run.name])
