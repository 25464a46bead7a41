"""The one exception the store raises."""


class StoreError(Exception):
    """A store failure, described in one line fit to print at start-up (no traceback needed).

    Example: ``cannot open database /x/y.db: not a SQLite database (file is not a database)``.
    """
