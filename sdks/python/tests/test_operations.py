"""Every operation of openapi.json has a method, and that method sends the operation's HTTP
method to the operation's path (checked against a recording server)."""

from __future__ import annotations

import json
import pathlib
import re
from typing import Any, Dict, List, Tuple

import pytest

from botcadence import OPERATIONS, Client, resolve_operation

SPEC_PATH = pathlib.Path(__file__).resolve().parents[3] / "openapi.json"


def spec_operations() -> Dict[str, Tuple[str, str, List[Tuple[str, str]]]]:
    """operationId -> (method, path, [(path parameter, its schema type)])."""
    spec = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    found: Dict[str, Tuple[str, str, List[Tuple[str, str]]]] = {}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and "operationId" in op:
                params = [(p["name"], p.get("schema", {}).get("type", "string"))
                          for p in op.get("parameters", []) if p.get("in") == "path"]
                found[op["operationId"]] = (method.upper(), path, params)
    return found


def test_every_operation_id_has_a_method() -> None:
    ops = spec_operations()
    assert len(ops) == 37
    missing = sorted(set(ops) - set(OPERATIONS))
    assert not missing, f"operations without a method: {missing}"
    stale = sorted(set(OPERATIONS) - set(ops))
    assert not stale, f"methods for operations the API no longer has: {stale}"
    client = Client("k", base_url="http://127.0.0.1:9")
    for op_id in ops:
        assert callable(resolve_operation(client, op_id)), op_id


def test_unknown_operation_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        resolve_operation(Client("k", base_url="http://127.0.0.1:9"), "noSuchOperation")


@pytest.mark.parametrize("op_id", sorted(spec_operations()))
def test_method_sends_the_operations_method_and_path(stub: Any, op_id: str) -> None:
    method, template, params = spec_operations()[op_id]
    stub.handler = lambda rec: (
        200, {"Content-Type": "text/plain" if rec.path == "/metrics" else "application/json"},
        b"x" if rec.path == "/metrics" else b"{}")
    client = Client("key_1", base_url=stub.url + "/v1", max_retries=0)
    # Ids are strings; a version number is an integer.
    args: List[Any] = [i + 1 if kind == "integer" else "id_%d" % i for i, (_, kind) in enumerate(params)]
    if op_id == "postEvent":
        args.append({"n": 1})
    resolve_operation(client, op_id)(*args)
    assert len(stub.requests) == 1
    rec = stub.requests[0]
    expected = template
    for (name, _), arg in zip(params, args):
        expected = expected.replace("{%s}" % name, str(arg))
    assert rec.method == method
    assert rec.path.split("?")[0] == expected
    # The key goes to the API only; the hook URL and the health endpoints do not need it.
    authed = template.startswith(("/v1/", "/admin/v1/"))
    assert ("authorization" in rec.headers) == authed
    if authed:
        assert rec.headers["authorization"] == "Bearer key_1"
    # POSTs that the daemon deduplicates carry a key; the operator API takes none.
    wants_key = method == "POST" and not template.startswith("/admin/")
    assert ("idempotency-key" in rec.headers) == wants_key
    assert re.fullmatch(r"botcadence-python/\d+\.\d+\.\d+ \(\w+ \d+\.\d+\.\d+\S*\)",
                        rec.headers["user-agent"])
