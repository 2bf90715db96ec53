"""The design workspace past the BOM: materialization preview and execute, CAD parts and the
assembly in the three.js viewer, STEP/STL/GLB downloads — all through the page's buttons."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import BrowserContext, expect

from ..engine_api import run_action, types
from ..harness import Gateway, bearer
from .conftest import Audit
from .test_design import design_session, open_signed_in

pytestmark = [pytest.mark.integration]


async def test_materialize_generate_cad_view_and_download(
    web_gateway: Gateway, context: BrowserContext, audit: Audit
) -> None:
    path = await design_session(web_gateway, "ada", "An electric go-kart for children")
    sid = path.rsplit("/", 1)[1]
    assert (
        types(await run_action(web_gateway, "ada", sid, {"action": "start_requirements"}))[-1]
        == "stage_complete"
    )
    status, body = await web_gateway.request(
        "POST",
        f"/api/design-engine/sessions/{sid}/stream",
        json={"action": "confirm_requirements"},
        headers=bearer("ada"),
    )
    assert status == 200, body
    assert types(await run_action(web_gateway, "ada", sid, {"action": "start_bom"}))[-1] == "stage_complete"

    page = await open_signed_in(context, web_gateway, "ada", path)
    await expect(page.locator("#bom-tree li").first).to_be_visible()
    await page.get_by_role("button", name="Confirm BOM").click()
    await expect(page.locator('.timeline [aria-current="step"]')).to_have_attribute(
        "data-stage", "materialization"
    )

    await page.get_by_role("button", name="Preview materialization").click()
    await expect(page.locator("#materialization-preview")).to_contain_text("new parts")
    await page.get_by_role("button", name="Execute materialization").click()
    result = page.locator("#materialization-result")
    await expect(result).to_contain_text("items created")
    await expect(result).to_contain_text("P-1001")
    await expect(result).to_contain_text("REQ-0001")
    await expect(page.get_by_role("button", name="Execute materialization")).to_be_disabled()

    await page.get_by_role("button", name="Generate CAD").click()
    await expect(page.locator('.timeline [aria-current="step"]')).to_have_attribute(
        "data-stage", "cad_review"
    )
    done = page.locator('.cad-list li:has(.badge[data-status="done"])')
    await expect(done.first).to_be_visible()
    first = done.first
    async with page.expect_download() as download_info:
        await first.get_by_role("button", name="STEP").click()
    download = await download_info.value
    assert download.suggested_filename.endswith(".step")
    assert (await download.path()).read_bytes().startswith(b"ISO-10303-21")
    await first.get_by_role("button", name=re.compile(r"^View 3D: ")).click()
    await expect(page.locator("#viewer canvas")).to_be_visible()

    await page.get_by_role("button", name="Confirm CAD").click()
    await page.get_by_role("button", name="Compose assembly").click()
    assembly = page.locator('.cad-list li[data-file="assembly"]')
    await expect(assembly).to_be_visible()
    await assembly.get_by_role("button", name="View 3D: Assembly").click()
    await expect(page.locator("#viewer-title")).to_have_text("Assembly")
    await expect(page.locator("#viewer canvas")).to_have_attribute("aria-label", "3D view of Assembly")
    assert await audit(page, "design-cad") == []
