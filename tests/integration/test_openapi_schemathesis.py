"""schemathesis against a live gateway (real Ray, both stores): every documented operation,
with a valid bearer token, bounded examples. No 5xx, and every response conforms to the
document: status code documented, content type, response schema and headers."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from schemathesis.engine import Status, events, from_schema
from schemathesis.engine.run import PhaseName
from schemathesis.hooks import GLOBAL_HOOK_DISPATCHER

from ..harness import Gateway, bearer

pytestmark = pytest.mark.integration

# Examples per operation and phase (hypothesis' max_examples), and the engine's time limit per
# gateway (a phase still running then stops; the deterministic phases cover every operation
# first): together they bound the suite's runtime. A long run sets both higher, e.g.
# ATELIER_SCHEMATHESIS_EXAMPLES=150 ATELIER_SCHEMATHESIS_SECONDS=1200 (over 10,000 examples
# per store), with MIN_CASES at the count it must reach.
MAX_EXAMPLES = int(os.environ.get("ATELIER_SCHEMATHESIS_EXAMPLES", "10"))
MAX_SECONDS = int(os.environ.get("ATELIER_SCHEMATHESIS_SECONDS", "180"))
MIN_CASES = int(os.environ.get("ATELIER_SCHEMATHESIS_MIN_CASES", "0"))
SEED = 20261123
REQUEST_TIMEOUT = 45
SLOW = 5.0  # seconds: a response slower than this is listed in the output
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
)


@dataclass
class Report:
    """What a run did: operations tested, cases sent, checks run, and what failed."""

    operations: set[str] = field(default_factory=set)
    cases: int = 0
    checks: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    slow: list[str] = field(default_factory=list)
    sent: list[tuple[float, str]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def line(self) -> str:
        codes = " ".join(f"{code}:{n}" for code, n in sorted(self.statuses.items()))
        return (
            f"schemathesis: {len(self.operations)} operations, {self.cases} examples, {self.checks} checks, "
            f"{len(self.failures)} failures, {len(self.errors)} errors; responses {codes}"
        )


def _record(report: Report, event: events.ScenarioFinished) -> None:
    recorder = event.recorder
    if event.phase != PhaseName.STATEFUL_TESTING:  # its scenarios are chains across operations
        report.operations.add(recorder.label)
    report.seconds[recorder.label] = report.seconds.get(recorder.label, 0.0) + event.elapsed_time
    report.cases += len(recorder.cases)
    for interaction in recorder.interactions.values():
        if interaction.response is not None:
            report.statuses[interaction.response.status_code] += 1
            report.sent.append(
                (
                    interaction.timestamp - interaction.response.elapsed,
                    f"{interaction.response.elapsed:.2f}s {interaction.request.method} "
                    f"{interaction.request.uri[:200]} -> {interaction.response.status_code} "
                    f"{(interaction.request.body or '')[:300]!r}",
                )
            )
            if interaction.response.elapsed > SLOW:
                report.slow.append(
                    f"{interaction.response.elapsed:.1f}s {interaction.request.method} "
                    f"{interaction.request.uri[:300]} -> {interaction.response.status_code}"
                )
    for case_id, checks in recorder.checks.items():
        for check in checks:
            report.checks += 1
            if check.status == Status.FAILURE and check.failure_info is not None:
                case = recorder.cases[case_id].value
                failure = check.failure_info.failure
                report.failures.append(
                    f"{recorder.label} [{event.phase.value}] {check.name}: {failure.title}\n"
                    f"  {failure.message[:400]}\n  {check.failure_info.code_sample[:600]}"
                    if case is not None
                    else check.name
                )


def unique_idempotency_keys(context: schemathesis.HookContext, case: Any, kwargs: dict[str, Any]) -> None:
    """Generated keys repeat (boundary values, shrinking): a repeat with another body is a
    (documented) 422 that would hide the route. Valid keys are made unique; invalid ones
    stay, so the key's own 400 is still exercised."""
    headers: dict[str, Any] | None = case.headers
    key = None if headers is None else headers.get("Idempotency-Key")
    if (
        headers is not None
        and isinstance(key, str)
        and 1 <= len(key) <= 255
        and all("!" <= c <= "~" for c in key)
    ):
        headers["Idempotency-Key"] = f"st-{uuid.uuid4()}"


def run_schemathesis(base_url: str, token: str) -> Report:
    """The whole engine (examples, coverage, fuzzing, stateful) in this thread."""
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "headers": {"Authorization": f"Bearer {token}"},
            "request-timeout": REQUEST_TIMEOUT,
            "workers": 1,
            "max-time": MAX_SECONDS,
            # A failure is reported as found: shrinking it would replay it many times over.
            "generation": {"max-examples": MAX_EXAMPLES, "mode": "all", "no-shrink": True},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        }
    )
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json", config=config)
    schema.config.update(base_url=base_url)

    report = Report()
    schemathesis.hook("before_call")(unique_idempotency_keys)
    try:
        for event in from_schema(schema).execute():
            if isinstance(event, events.ScenarioFinished):
                _record(report, event)
            elif isinstance(event, events.NonFatalError):
                report.errors.append(f"{event.label}: {event.info.title}: {event.info}")
            elif isinstance(event, events.FatalError):
                report.errors.append(f"fatal: {event.exception!r}")
    finally:
        GLOBAL_HOOK_DISPATCHER.unregister(unique_idempotency_keys)
    return report


@pytest.mark.timeout(MAX_SECONDS + 300)
async def test_schemathesis_finds_no_server_error_and_no_nonconforming_response(gateway: Gateway) -> None:
    token = bearer("schemathesis")["Authorization"].removeprefix("Bearer ")
    assert gateway.http is not None
    async with gateway.http.get("/openapi.json") as response:
        document = await response.json()
    documented = {
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
        if method != "parameters"
    }

    report = await asyncio.to_thread(run_schemathesis, gateway.url, token)

    print(report.line())
    print(
        "slowest operations:",
        ", ".join(
            f"{label} {seconds:.0f}s"
            for label, seconds in sorted(report.seconds.items(), key=lambda kv: -kv[1])[:6]
        ),
    )
    for slow in report.slow:
        print("slow:", slow)
    ordered = sorted(report.sent)
    for index, (_, line) in enumerate(ordered):
        if float(line.split("s ", 1)[0]) > SLOW:
            print("--- the requests around a slow response:")
            for _, earlier in ordered[max(0, index - 10) : index + 3]:
                print("   ", earlier)
    for failure in report.failures:
        print(failure)
    assert not report.errors, report.errors
    assert not report.failures, "\n".join(report.failures)
    assert report.operations == documented
    assert report.cases >= len(documented) * 2  # generation reached every operation, more than once
    assert report.cases >= MIN_CASES
    assert not [code for code in report.statuses if code >= 500]  # a 503 too: nothing timed out
