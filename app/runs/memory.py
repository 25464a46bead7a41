"""How much memory a run needs while it trains, estimated from its config alone.

What a training process holds for a run, in the run's dtype:
- the data: every sample's inputs and targets, train and test (twice: as made, then in the
  run's dtype);
- the parameters, four times over: weights, their gradient, momentum's velocity, and the copy
  a snapshot or frame makes;
- one forward and backward pass over the largest batch it evaluates (the whole training set
  for the train loss, the test set for the test loss): net, activation and delta of every
  layer, for every sample of it;
- the snapshots it may have sent and the store not yet written (`max_unstored_snapshot_bytes`).

The estimate decides whether a run may be created or started (a 422 naming the limit); the
worker process also holds itself to it with a hard limit, so a wrong estimate ends one run,
never the server.
"""

from __future__ import annotations

from app.runs.config import RunConfig

# Rows of the data sets that bring their own: iris and digits as scikit-learn ships them.
SHIPPED_ROWS = {"iris": 150, "digits": 1797}


def run_memory_bytes(config: RunConfig, unstored_snapshot_bytes: int, table_rows: int) -> int:
    """The estimate above, in bytes. `table_rows`: the most rows an uploaded table may have
    (the estimate of a csv run takes the largest allowed)."""
    itemsize = 4 if config.dtype == "float32" else 8
    kind = config.dataset.kind
    samples = table_rows if kind == "csv" else SHIPPED_ROWS.get(kind, config.dataset.samples)
    width = config.layers[0] + config.layers[-1]
    data = samples * width * (8 + itemsize)
    parameters = 4 * config.parameter_count * itemsize
    largest_batch = samples  # the train loss is over the whole training set
    passes = 3 * largest_batch * sum(config.layers) * itemsize
    snapshot = min(unstored_snapshot_bytes, 2 * config.parameter_count * itemsize)
    return data + parameters + passes + snapshot
