"""What the run layer refuses, each carrying the HTTP status the API answers with."""

from __future__ import annotations


class RunError(Exception):
    """A refusal with a one-line reason; `status_code` is what the API answers."""

    status_code = 400

    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field  # the request field at fault, for 422 answers


class RunNotFound(RunError):
    status_code = 404


class RunConflict(RunError):
    """The run's status does not allow this now (stepping a running run, resuming a stopped one)."""

    status_code = 409


class LimitExceeded(RunError):
    """A request asks for more than a limit setting allows; the message names the setting."""

    def __init__(self, detail: str, field: str | None = None, status_code: int = 422) -> None:
        super().__init__(detail, field)
        self.status_code = status_code


class InvalidRequest(RunError):
    status_code = 422


class StorageUnavailable(RunError):
    """The store cannot write now (locked, full, failing): what must be stored cannot be."""

    status_code = 503
