"""A gateway (real Ray, SQLite) and a headless Debian chromium driven by Playwright."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from ..harness import Gateway, gateway_settings
from .tools import OUTPUT_DIR, ensure_chromium, ensure_web_node_modules

# Ray tasks (file indexing), stage runs and a cold worker pool take seconds on 2 shared
# cores: every expectation waits up to this long for its condition.
expect.set_options(timeout=90_000)

# Axe findings a page must not have (axe's scale: minor, moderate, serious, critical).
BLOCKING_IMPACTS = ("serious", "critical")


@pytest.fixture(scope="session")
async def web_gateway(ray_cluster: None, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Gateway]:
    settings = gateway_settings(database_url=None, data_dir=tmp_path_factory.mktemp("web-data"))
    gw = await Gateway(settings).start()
    try:
        yield gw
    finally:
        await gw.stop()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    executable = ensure_chromium()
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=executable,
            args=[
                "--no-sandbox",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(60_000)
    try:
        yield ctx
    finally:
        await ctx.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    return (ensure_web_node_modules() / "axe-core" / "axe.min.js").read_text()


@pytest.fixture(scope="session")
def output_dir() -> Path:
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    return OUTPUT_DIR


Audit = Callable[[Page, str], Awaitable[list[dict[str, Any]]]]


@pytest.fixture
def audit(axe_source: str, output_dir: Path) -> Audit:
    """Screenshot ``page`` as ``name`` and scan it with axe-core; returns the serious and
    critical violations (the full report is written beside the screenshot)."""

    async def run(page: Page, name: str) -> list[dict[str, Any]]:
        await page.screenshot(path=str(output_dir / f"{name}.png"), full_page=True)
        # Evaluated through the DevTools protocol, so the page's CSP does not apply.
        await page.evaluate(axe_source + "\n;undefined")
        report = await page.evaluate(
            "async () => JSON.parse(JSON.stringify(await axe.run(document, {resultTypes: ['violations']})))"
        )
        (output_dir / f"{name}.axe.json").write_text(json.dumps(report["violations"], indent=2))
        return [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": [n["target"] for n in v["nodes"]][:5],
            }
            for v in report["violations"]
            if v["impact"] in BLOCKING_IMPACTS
        ]

    return run
