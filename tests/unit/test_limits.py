"""Token buckets, slot tables and the limit settings, by value with an injected clock."""

from __future__ import annotations

import pytest

from actors.env import SettingError
from gateway.limits.bucket import Bucket, BucketTable, Rate, SlotTable, retry_after_header
from gateway.limits.settings import LimitSettings
from gateway.limits.store import MemoryRateStore


def test_a_full_bucket_allows_its_burst_then_says_how_long_to_wait() -> None:
    rate = Rate(per_second=2.0, burst=3)
    bucket = Bucket.full(rate, now=100.0)
    assert [bucket.take(rate, 100.0).allowed for _ in range(3)] == [True, True, True]
    refused = bucket.take(rate, 100.0)
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(0.5)
    # A quarter second refills half a token: still short by half a token, a quarter second.
    assert bucket.take(rate, 100.25).retry_after == pytest.approx(0.25)
    assert bucket.take(rate, 100.5).allowed


def test_refill_is_capped_at_the_burst_and_a_clock_stepping_back_refills_nothing() -> None:
    rate = Rate(per_second=10.0, burst=2)
    bucket = Bucket.full(rate, now=0.0)
    assert bucket.take(rate, 0.0).allowed
    assert bucket.take(rate, 0.0).allowed
    assert bucket.take(rate, 1000.0).allowed
    assert bucket.tokens == pytest.approx(1.0)  # refilled to 2, not to 10 000
    assert bucket.take(rate, 1000.0).allowed
    assert not bucket.take(rate, 999.0).allowed  # time went backwards: no tokens appear


def test_bucket_table_keys_are_independent_and_bounded() -> None:
    table = BucketTable(Rate(1.0, 1), max_keys=2)
    assert table.take("a", 0.0).allowed
    assert not table.take("a", 0.0).allowed
    assert table.take("b", 0.0).allowed
    assert table.take("c", 0.0).allowed  # "a" (least recently used) is forgotten
    assert len(table) == 2
    assert table.take("a", 0.0).allowed  # forgotten means a full bucket again: never stricter


def test_a_disabled_rate_always_allows() -> None:
    table = BucketTable(Rate(0.0, 0), max_keys=1)
    assert all(table.take("k", 0.0).allowed for _ in range(1000))
    assert len(table) == 0


def test_slot_table_counts_holders_per_key() -> None:
    slots = SlotTable(limit=2)
    assert slots.acquire("u")
    assert slots.acquire("u")
    assert not slots.acquire("u")
    assert slots.acquire("v")
    assert slots.total() == 3
    slots.release("u")
    assert slots.held("u") == 1
    assert slots.acquire("u")
    for _ in range(5):
        slots.release("v")
    assert slots.held("v") == 0
    assert slots.total() == 2
    unlimited = SlotTable(limit=0)
    assert all(unlimited.acquire("x") for _ in range(10_000))


def test_retry_after_is_whole_seconds_and_never_zero() -> None:
    assert [retry_after_header(x) for x in (0.0, 0.001, 1.0, 1.2, 59.9)] == ["1", "1", "1", "2", "60"]


async def test_memory_store_uses_its_clock_per_scope() -> None:
    now = [0.0]
    store = MemoryRateStore(max_keys=10, clock=lambda: now[0])
    rate = Rate(1.0, 1)
    assert (await store.take("ip", "1.2.3.4", rate)).allowed
    assert not (await store.take("ip", "1.2.3.4", rate)).allowed
    assert (await store.take("token", "1.2.3.4", rate)).allowed  # another scope, another bucket
    now[0] = 1.0
    assert (await store.take("ip", "1.2.3.4", rate)).allowed


def test_settings_from_env_and_zero_disables() -> None:
    env = {
        "ATELIER_RATE_IP_PER_SEC": "5",
        "ATELIER_RATE_IP_BURST": "7",
        "ATELIER_WS_MAX_PER_IP": "0",
        "ATELIER_SSE_MAX_PER_USER": "3",
        "ATELIER_MAX_DESIGN_SESSIONS_PER_USER": "9",
        "ATELIER_IDEMPOTENCY_TTL": "60",
        "ATELIER_WS_CLOSE_TIMEOUT": "0.5",
    }
    s = LimitSettings.from_env(env)
    assert s.ip == Rate(5.0, 7)
    assert s.ip.enabled
    assert s.ws_per_ip == 0
    assert s.sse_per_user == 3
    assert s.design_sessions_per_user == 9
    assert s.idempotency_ttl == 60.0
    assert s.ws_close_timeout == 0.5
    assert LimitSettings.from_env({}) == LimitSettings()
    off = LimitSettings.unlimited()
    assert not (off.ip.enabled)
    assert not (off.token.enabled)
    assert not (off.ws_ip.enabled)
    assert not (off.ws_token.enabled)
    with pytest.raises(SettingError, match="ATELIER_RATE_IP_BURST"):
        LimitSettings.from_env({"ATELIER_RATE_IP_BURST": "-1"})
