"""The runs tests drive the app in-process, like the API tests."""

from tests.api.conftest import client, settings

__all__ = ["client", "settings"]
