"""Fixtures: a scripted local HTTP server for offline tests; an operator client and accounts
of their own for live ones."""

from __future__ import annotations

import os
from typing import Iterator

import pytest

from botcadence import Client
from support import LIVE, Stub, account_client


@pytest.fixture
def stub() -> Iterator[Stub]:
    s = Stub()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture(scope="session")
def admin() -> Client:
    if not LIVE:
        pytest.skip("needs a daemon: run through sdks/live.py")
    return Client(os.environ["BOTCADENCE_ADMIN_TOKEN"])


@pytest.fixture(scope="module")
def client(admin: Client) -> Client:
    """A client of an enterprise account of this test module's own."""
    return account_client(admin)[1]
