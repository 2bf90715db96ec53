"""The workspace chat in a real chromium: a file uploaded and indexed to READY, a run that
attaches it, its answer streamed in and kept in the history, the quota going down."""

from __future__ import annotations

import pytest
from playwright.async_api import BrowserContext, FilePayload, expect

from ..harness import Gateway, bearer
from .conftest import Audit
from .test_design import open_signed_in

pytestmark = [pytest.mark.integration]

NOTES = b"Lab notes: the alloy bracket failed at 412 N in the third trial.\nSecond line.\n"


async def test_a_run_with_an_uploaded_file_shows_the_answer(
    web_gateway: Gateway, context: BrowserContext, audit: Audit
) -> None:
    headers = bearer("cleo")
    status, body = await web_gateway.request(
        "POST", "/api/v1/projects", headers=headers, json={"name": "Bracket study", "fiscalYear": "2025"}
    )
    assert status == 201, body
    project_id = body["project"]["id"]

    page = await open_signed_in(context, web_gateway, "cleo", f"/projects/{project_id}")
    await expect(page.locator("#projects")).to_contain_text("Bracket study")
    await expect(page.locator("#quota")).to_contain_text("100 of 100 runs left")
    await page.get_by_label("Title").fill("Trial review")
    await page.get_by_role("button", name="New session").click()
    await page.wait_for_url(f"{web_gateway.url}/projects/{project_id}/sessions/*")
    await expect(page.locator("#chat-title")).to_contain_text("Trial review")

    await page.set_input_files(
        "#upload-file", files=[FilePayload(name="notes.txt", mimeType="text/plain", buffer=NOTES)]
    )
    await page.get_by_role("button", name="Upload", exact=True).click()
    item = page.locator("#files li", has_text="notes.txt")
    await expect(item.locator(".badge")).to_have_text("READY")
    await page.get_by_label("notes.txt").check()

    await page.get_by_label("Ask").fill("What broke in the third trial?")
    await page.get_by_role("button", name="Send", exact=True).click()
    answer = page.locator('#history [data-role="ASSISTANT"]').last
    await expect(answer).to_contain_text("[offline]")
    await expect(answer).to_contain_text("notes.txt")
    await expect(answer).to_contain_text("failed at 412 N")
    await expect(page.locator("#page-status")).to_contain_text("Answered")
    await expect(page.locator("#quota")).to_contain_text("99 of 100 runs left")
    # The history (after the run the page reloads it) holds the question and the answer.
    await expect(page.locator('#history [data-role="USER"]')).to_have_text(
        ["YouWhat broke in the third trial?"]
    )
    session_id = page.url.rsplit("/", 1)[1]
    _, history = await web_gateway.request("GET", f"/api/v1/sessions/{session_id}/history", headers=headers)
    assert [m["role"] for m in history["messages"]] == ["USER", "ASSISTANT"]
    assert "failed at 412 N" in history["messages"][1]["content"]

    violations = await audit(page, "workspace-chat")
    assert violations == []
    await page.goto(f"{web_gateway.url}/projects")
    await expect(page.locator("#projects")).to_contain_text("Bracket study")
    assert await audit(page, "workspace-projects") == []
