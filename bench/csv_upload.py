"""POST /api/datasets with the largest file the default limits allow, in-process.

    python -m bench.csv_upload [--rounds 5]

The file: as many rows (up to max_csv_rows) of six numeric columns and a class label as fit in
max_csv_bytes. Each round uploads a different file (one changed cell: the same file would be
found stored already) through the app's own ASGI stack (TestClient), and measures the time of
the request, and (uploading another) the peak of Python's allocations during it (tracemalloc;
SQLite's own page cache is not counted).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

from app.main import create_app
from app.settings import Settings


def largest_file(settings: Settings, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    lines = ["a,b,c,d,e,f,label"]
    size = len(lines[0]) + 1
    for _ in range(settings.max_csv_rows):
        values = ",".join(f"{v:.5f}" for v in rng.normal(size=6))
        line = f"{values},{'abc'[int(rng.integers(3))]}"
        if size + len(line) + 1 > settings.max_csv_bytes:
            break
        lines.append(line)
        size += len(line) + 1
    return ("\n".join(lines) + "\n").encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(db_path=Path(folder) / "runs.db", allowed_hosts=["testserver"])
        times, peaks = [], []
        with TestClient(create_app(settings)) as client:
            for round_number in range(args.rounds):
                # Timed without tracemalloc (it slows Python down several times), then another
                # file traced for memory.
                for traced in (False, True):
                    data = largest_file(settings, 2 * round_number + traced)
                    if traced:
                        tracemalloc.start()
                    started = time.perf_counter()
                    answer = client.post(
                        "/api/datasets", content=data, headers={"content-type": "text/csv"}
                    )
                    if traced:
                        peaks.append(tracemalloc.get_traced_memory()[1])
                        tracemalloc.stop()
                    else:
                        times.append(time.perf_counter() - started)
                    assert answer.status_code == 201, answer.text
                rows = answer.json()["rows"]
    print(
        f"file: {len(data):,} bytes, {rows:,} rows x 7 columns (limit {settings.max_csv_bytes:,})"
    )
    print(
        f"upload time: median {statistics.median(times) * 1000:.0f} ms "
        f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}) over {args.rounds} rounds"
    )
    print(
        f"peak Python memory during the request: median {statistics.median(peaks) / 2**20:.1f} MiB"
    )


if __name__ == "__main__":
    main()
