"""Runs: a config, a trainer, a worker thread and a status, owned by the RunManager."""
