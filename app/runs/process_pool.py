"""The default executor: a pool of local worker processes that train runs.

Up to `size` processes (the `worker_processes` setting; by default one per core) are started
as runs need them, from a fork server that has the engine imported already, so a start costs
milliseconds. A run goes to the process with the fewest runs, so N running runs use up to N
cores; runs sharing a process take turns (app/runs/training.py).

Each process has a pipe and two threads on the server's side: one sends it commands (pickling
a data set must not hold up the event loop), one reads its events and hands them to the loop.
A process that dies (killed, crashed, out of memory) is noticed by its reader as the end of the
pipe: each of its runs ends as `interrupted`, with the reason, and the pool starts a fresh
process for the next run. The server and the other processes' runs go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import queue
import signal
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess
from typing import NamedTuple

from app.runs import training
from app.runs.executor import EventSink
from app.runs.messages import Command, Event, Pacing, StartTraining, TrainingEnded
from app.runs.status import RunStatus


class WorkerLimits(NamedTuple):
    memory_slack: int  # bytes a worker may use beyond its runs' estimates
    niceness: int  # how far below the server a worker runs (os.nice)


class WorkerProcess:
    """One worker process, the pipe to it and the two threads that use the pipe."""

    def __init__(
        self,
        context: ForkServerContext,
        pacing: Pacing,
        limits: WorkerLimits,
        deliver: EventSink,
        lost: EventSink,
    ) -> None:
        parent, child = context.Pipe(duplex=True)
        args = (child, pacing, limits.memory_slack, limits.niceness)
        self.process: BaseProcess = context.Process(target=training.serve, args=args, daemon=True)
        self.process.start()
        child.close()
        self.conn: Connection = parent
        self.runs: dict[str, int] = {}  # run id -> session, while it trains here
        self._outbox: queue.SimpleQueue[Command | None] = queue.SimpleQueue()
        self._deliver, self._lost = deliver, lost
        threading.Thread(target=self._send_loop, name="worker-send", daemon=True).start()
        threading.Thread(target=self._read_loop, name="worker-read", daemon=True).start()

    def send(self, command: Command) -> None:
        self._outbox.put(command)

    def hang_up(self) -> None:
        """Close the pipe once the commands queued before are sent: the process then exits."""
        self._outbox.put(None)

    def _send_loop(self) -> None:
        while (command := self._outbox.get()) is not None:
            try:
                self.conn.send(command)
            except (OSError, ValueError):
                return  # the process is gone; its reader reports it
        with contextlib.suppress(OSError):
            self.conn.close()

    def _read_loop(self) -> None:
        while True:
            try:
                event: Event = self.conn.recv()
            except (EOFError, OSError):
                break
            self._deliver(event)
        self.process.join(1.0)
        self._lost(self._lost_event())

    def _lost_event(self) -> TrainingEnded:
        code = self.process.exitcode
        if code is not None and code < 0:
            how = f"was killed by {signal.Signals(-code).name}"
        elif code is not None:
            how = f"exited with code {code}"
        else:
            how = "stopped answering"
        reason = f"its worker process (pid {self.process.pid}) {how}"
        return TrainingEnded("", -1, RunStatus.INTERRUPTED, reason, -1, None, None, None, None)


class ProcessPool:
    """Trains runs in up to `size` local processes (see the module's docstring)."""

    def __init__(
        self,
        size: int,
        pacing: Pacing,
        limits: WorkerLimits,
        on_event: EventSink,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.size, self.pacing, self.limits = size, pacing, limits
        self.on_event, self.loop = on_event, loop
        self.pool: list[WorkerProcess] = []  # the live worker processes
        self._where: dict[str, WorkerProcess] = {}
        self._closed = False
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["app.runs.training"])

    async def start(self, order: StartTraining) -> None:
        worker = await self._least_busy()
        worker.runs[order.run_id] = order.session
        self._where[order.run_id] = worker
        worker.send(order)

    def send(self, command: Command) -> None:
        worker = self._where.get(command.run_id)
        if worker is not None:
            worker.send(command)

    def training(self) -> int:
        return len(self._where)

    def workers(self) -> list[tuple[int, list[str]]]:
        return [(w.process.pid or 0, sorted(w.runs)) for w in self.pool]

    async def close(self, timeout: float) -> None:
        self._closed = True
        workers, self.pool = self.pool, []
        for worker in workers:
            worker.hang_up()
        for worker in workers:
            await asyncio.to_thread(worker.process.join, timeout)
            if worker.process.is_alive():
                worker.process.kill()
                await asyncio.to_thread(worker.process.join, 1.0)

    async def _least_busy(self) -> WorkerProcess:
        idle = [w for w in self.pool if not w.runs]
        if idle:
            return idle[0]
        if len(self.pool) < self.size:
            worker = await asyncio.to_thread(self._spawn)
            self.pool.append(worker)
            return worker
        return min(self.pool, key=lambda w: len(w.runs))

    def _spawn(self) -> WorkerProcess:
        def deliver(event: Event) -> None:
            self._to_loop(self._delivered, event)

        def lost(event: Event) -> None:
            self._to_loop(self._lost, worker, event)

        worker = WorkerProcess(self._context, self.pacing, self.limits, deliver, lost)
        return worker

    def _to_loop(self, callback: Callable[..., None], *args: object) -> None:
        """From a reader thread: run `callback` on the loop, unless the pool has closed."""
        if not self._closed:
            with contextlib.suppress(RuntimeError):  # the loop closed after the check
                self.loop.call_soon_threadsafe(callback, *args)

    def _delivered(self, event: Event) -> None:
        if isinstance(event, TrainingEnded):
            worker = self._where.get(event.run_id)
            if worker is not None and worker.runs.get(event.run_id) == event.session:
                del worker.runs[event.run_id]
                del self._where[event.run_id]
        self.on_event(event)

    def _lost(self, worker: WorkerProcess, lost: Event) -> None:
        """Every run of a dead process ends `interrupted`, with the reason."""
        assert isinstance(lost, TrainingEnded)
        with contextlib.suppress(ValueError):
            self.pool.remove(worker)
        for run_id, session in list(worker.runs.items()):
            self._delivered(lost._replace(run_id=run_id, session=session))
