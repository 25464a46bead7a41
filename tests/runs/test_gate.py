"""The training gate: one trainer at a time, in fair turns, and sleeping frees it."""

from __future__ import annotations

import itertools
import threading
import time

from app.runs.gate import TrainingGate


def hold_turns(gate: TrainingGate, name: str, log: list[str], seconds: float) -> None:
    """Work like a training loop: note each 'update' made, offering the turn between them."""
    end = time.monotonic() + seconds
    with gate.turn_taken() as turn:
        while (now := time.monotonic()) < end:
            log.append(name)
            time.sleep(0.0002)  # an 'update'
            turn.over(now)


def test_only_one_thread_holds_the_gate_at_a_time() -> None:
    gate = TrainingGate(turn=0.002)
    inside = 0
    most_inside = 0
    lock = threading.Lock()

    def trainer() -> None:
        nonlocal inside, most_inside
        for _ in range(50):
            gate.acquire()
            with lock:
                inside += 1
                most_inside = max(most_inside, inside)
            time.sleep(0.0001)
            with lock:
                inside -= 1
            gate.release()

    threads = [threading.Thread(target=trainer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most_inside == 1


def test_turns_are_shared_fairly() -> None:
    gate = TrainingGate(turn=0.002)
    log: list[str] = []
    threads = [threading.Thread(target=hold_turns, args=(gate, name, log, 0.3)) for name in "abc"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counts = [log.count(name) for name in "abc"]
    # Each starts once the gate is free, so the last ones get less; a plain Lock would let
    # the first thread keep the gate for its whole 0.3 s and the others nothing until then.
    changes = sum(1 for before, after in itertools.pairwise(log) if before != after)
    assert min(counts) > 0.2 * max(counts), counts
    assert changes > 20, changes


def test_waiting_frees_the_gate_for_others() -> None:
    gate = TrainingGate(turn=0.002)
    holding, woke, other_ran = threading.Event(), threading.Event(), threading.Event()

    def sleeper() -> None:
        with gate.turn_taken() as turn:
            holding.set()
            turn.wait(woke, 30.0)

    def other() -> None:
        with gate.turn_taken():
            other_ran.set()

    first = threading.Thread(target=sleeper)
    first.start()
    assert holding.wait(10)  # the sleeper holds the gate (a fixed sleep could miss this)
    second = threading.Thread(target=other)
    second.start()
    # Far less than the sleeper's 30 s wait, however loaded the machine.
    assert other_ran.wait(10)
    woke.set()
    first.join()
    second.join()
