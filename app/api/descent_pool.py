"""Descent traces and curves in worker processes of their own, bounded in number and CPU time.

A trace of 10,000 steps of a long expression costs seconds of CPU. Run in the server, it held a
thread of the pool that store reads use and the interpreter lock that training and the event
loop share, and a shutdown waited for it. So each trace or curve runs in a worker process:

- at most `size` at once (one request per worker); one more is refused at once (PoolBusy),
  never queued;
- each request may use `cpu_seconds` of its worker's CPU: the worker checks its process time
  between steps (OverBudget), and a hard RLIMIT_CPU a second past the budget kills a worker
  stuck inside one step (SIGXCPU), which the pool reports the same way;
- workers run niced (NICENESS), below the server and the training workers;
- `close()` kills every worker without waiting: the requests in flight fail with PoolClosed
  at once, so a shutdown never waits for a trace.

The event loop waits for a worker's answer on its pipe (`add_reader`), so no thread is held.
The worker sends the answer's JSON body ready-made: the server only forwards the bytes.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import resource
import signal
import time
from itertools import islice
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import NamedTuple

import orjson

from app.nn.descent import descend, sample_curve
from app.nn.expr import ExpressionError, parse_expression

# A worker stuck inside one step is killed by the kernel this long after its budget.
HARD_LIMIT_GRACE = 1.0
# Workers run at a lower priority: on a busy machine the server's event loop and the training
# workers get the CPU first, and a trace waits (its budget counts CPU time, not waiting).
NICENESS = 10


class TraceJob(NamedTuple):
    expr: str
    x0: float
    learning_rate: float
    steps: int


class CurveJob(NamedTuple):
    expr: str
    x_min: float
    x_max: float
    points: int


class _Done(NamedTuple):
    body: bytes


class _Refused(NamedTuple):
    field: str | None
    message: str


class _OverBudget(NamedTuple):
    cpu_seconds: float


class PoolBusy(Exception):
    """Every worker is serving a request."""


class PoolClosed(Exception):
    """The pool is shutting down (or a worker died of something other than its CPU limit)."""


class OverBudget(Exception):
    """The request needed more CPU time than a request may use."""


class Refused(Exception):
    """The inputs cannot be traced: a bad expression, or f not finite at the start."""

    def __init__(self, message: str, field: str | None) -> None:
        super().__init__(message)
        self.field = field


class _Worker(NamedTuple):
    process: BaseProcess
    conn: Connection


class DescentPool:
    """Up to `size` worker processes, started when first needed and reused; see the module."""

    def __init__(self, size: int, cpu_seconds: float) -> None:
        self._size = size
        self._cpu_seconds = cpu_seconds
        self._context = multiprocessing.get_context("spawn")
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._closed = False

    @property
    def busy(self) -> int:
        return len(self._busy)

    async def run(self, job: TraceJob | CurveJob) -> bytes:
        """The JSON body answering `job`; raises PoolBusy, PoolClosed, OverBudget or Refused."""
        if self._closed:
            raise PoolClosed("the server is shutting down")
        if len(self._busy) >= self._size:
            raise PoolBusy(f"{self._size} descent requests are already being served")
        worker = self._idle.pop() if self._idle else self._start()
        self._busy.add(worker)
        answer: _Done | _Refused | _OverBudget | None = None
        try:
            worker.conn.send(job)
            answer = await _receive(worker.conn)
        except (EOFError, OSError):
            answer = None  # the worker died: see below why
        finally:
            self._busy.discard(worker)
            # A worker whose answer never came (died, killed, or the request was cancelled)
            # may still be computing: it is not reused.
            if answer is not None and not self._closed:
                self._idle.append(worker)
            else:
                _kill(worker)
        match answer:
            case _Done(body):
                return body
            case _Refused(field, message):
                raise Refused(message, field)
            case _OverBudget(seconds):
                raise OverBudget(f"it needed more than {seconds:g} s of CPU")
            case None if self._closed:
                raise PoolClosed("the server is shutting down")
            case None if worker.process.exitcode == -signal.SIGXCPU:
                raise OverBudget(f"it needed more than {self._cpu_seconds:g} s of CPU")
        raise PoolClosed(f"the descent worker ended unexpectedly ({worker.process.exitcode})")

    def close(self) -> None:
        """Kill every worker now; requests in flight fail with PoolClosed. Idempotent."""
        self._closed = True
        for worker in [*self._idle, *self._busy]:
            # Killing is enough to end a busy request: its pipe reports end-of-file.
            worker.process.kill()
        for worker in self._idle:
            _kill(worker)
        self._idle.clear()

    def _start(self) -> _Worker:
        # spawn, not fork: the server's threads (training, the store's writer) hold locks that a
        # forked child would inherit held.
        ours, theirs = self._context.Pipe()
        process = self._context.Process(
            target=serve, args=(theirs, self._cpu_seconds), name="descent-worker", daemon=True
        )
        process.start()
        theirs.close()
        return _Worker(process, ours)


async def _receive(conn: Connection) -> _Done | _Refused | _OverBudget:
    """The worker's answer, awaited on the event loop without a thread."""
    loop = asyncio.get_running_loop()
    readable: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not readable.done():
            readable.set_result(None)

    fd = conn.fileno()
    loop.add_reader(fd, wake)
    try:
        await readable
    finally:
        loop.remove_reader(fd)
    answer: _Done | _Refused | _OverBudget = conn.recv()
    return answer


def _kill(worker: _Worker) -> None:
    worker.process.kill()
    worker.process.join(1.0)  # SIGKILL ends it at once; this only reaps it
    worker.conn.close()


# ---------------------------------------------------------------------------------------------
# The worker process.


def serve(conn: Connection, cpu_seconds: float) -> None:
    """Answer jobs from `conn` until the server closes it or kills this process."""
    # Ctrl-C in a terminal reaches the whole process group; the server ends its workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(NICENESS)
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        limit_cpu(cpu_seconds + HARD_LIMIT_GRACE)
        conn.send(answer(job, cpu_seconds))


def answer(job: TraceJob | CurveJob, cpu_seconds: float) -> _Done | _Refused | _OverBudget:
    """What the worker sends back for `job`, given `cpu_seconds` of process time."""
    deadline = time.process_time() + cpu_seconds
    try:
        match job:
            case TraceJob():
                body = _trace(job, deadline)
            case CurveJob():
                body = _curve(job)
    except ExpressionError as error:
        return _Refused("expr", str(error))
    except ValueError as error:
        return _Refused(None, str(error))
    if body is None or time.process_time() > deadline:
        return _OverBudget(cpu_seconds)
    return _Done(body)


def _trace(job: TraceJob, deadline: float) -> bytes | None:
    """The trace's JSON, or None once the CPU deadline passes (checked between steps)."""
    trace = []
    for point in islice(descend(job.expr, job.x0, job.learning_rate), job.steps + 1):
        if time.process_time() > deadline:
            return None
        trace.append({"step": point.step, "x": point.x, "y": point.y, "slope": point.slope})
    stopped = None
    if len(trace) < job.steps + 1:
        last = trace[-1]
        stopped = (
            f"stopped after step {last['step']}: the next move, to x = {last['x']} − "
            f"{job.learning_rate} × {last['slope']}, would make x, f(x) or f′(x) infinite or "
            "undefined (descent diverged, or left the domain of f)"
        )
    return orjson.dumps({"trace": trace, "stopped": stopped})


def _curve(job: CurveJob) -> bytes:
    xs, ys = sample_curve(parse_expression(job.expr), job.x_min, job.x_max, job.points)
    return orjson.dumps({"x": xs, "y": ys})


def limit_cpu(seconds: float) -> None:
    """A hard stop `seconds` of CPU from now: the kernel sends SIGXCPU, which ends the process."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    now = used.ru_utime + used.ru_stime
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = math.ceil(now + seconds)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
