"""The one exception the store raises."""


class StoreError(Exception):
    """A store failure, described in one line fit to print at start-up (no traceback needed).

    Example: ``cannot open database /x/y.db: not a SQLite database (file is not a database)``.
    """


class StoreUnavailable(StoreError):
    """The store cannot commit now (the file is locked, the disk full, I/O failing).

    What was queued is kept and retried; this says a caller's write is not stored yet.
    """
