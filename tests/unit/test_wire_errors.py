"""Every error a host answers with crosses the link and comes back as itself."""

from __future__ import annotations

import msgpack
import pytest

import actors.client.cluster  # noqa: F401  (imports every module that defines a wire error)
from actors.core.errors import ValidationError, WireError, error_from_wire, error_to_wire
from actors.errors import (
    AccessDenied,
    Conflict,
    HostExiting,
    NotFound,
    QuotaExhausted,
    SessionError,
    SessionMoved,
    SessionNotFound,
    SessionUnavailable,
    TooManyStreams,
    Unprocessable,
)
from actors.workspace.errors import FileSelectionError

SAMPLES: dict[str, WireError] = {
    "ValidationError": ValidationError("ops[2].key", "required non-empty string"),
    "FileSelectionError": FileSelectionError("fileIds[0]", "f-1", "not_ready", "file f-1 is not ready"),
    "SessionError": SessionError("session layer failed"),
    "SessionNotFound": SessionNotFound("s-1"),
    "SessionUnavailable": SessionUnavailable("host unreachable"),
    "HostExiting": HostExiting("host exiting"),
    "SessionMoved": SessionMoved("s-1"),
    "NotFound": NotFound("run", "runId"),
    "AccessDenied": AccessDenied("session", None),
    "Conflict": Conflict("the session has moved on", {"revision": 12, "keys": ["a"]}),
    "Unprocessable": Unprocessable("materialize after confirm_bom", "stage"),
    "QuotaExhausted": QuotaExhausted(10, 10, "2026-12-08T00:00:00.000Z", 3600),
    "TooManyStreams": TooManyStreams("s-1", 256),
}


def test_every_registered_wire_error_has_a_sample() -> None:
    assert set(WireError.registry) == set(SAMPLES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_a_wire_error_round_trips_through_the_link_encoding(name: str) -> None:
    sent = SAMPLES[name]
    kind, message, detail = error_to_wire(sent)
    assert kind == name
    # The link packs a failure as msgpack, as it does every message.
    kind, message, detail = msgpack.unpackb(msgpack.packb([kind, message, detail]), raw=False)
    got = error_from_wire(kind, message, detail, "s-other")
    assert type(got) is type(sent)
    assert str(got) == str(sent)
    assert vars(got) == vars(sent)


def test_an_unknown_or_malformed_failure_is_not_rebuilt() -> None:
    assert error_from_wire("StoreError", "disk full", None, "s-1") is None
    assert error_from_wire("QuotaExhausted", "used up", "not a map", "s-1") is None


def test_a_second_wire_error_with_a_taken_name_is_refused() -> None:
    with pytest.raises(TypeError, match="two wire errors named Conflict"):
        type("Conflict", (SessionError,), {"__qualname__": "elsewhere.Conflict"})
