"""The pages' server side by value: the action table the design page offers, the JSON block
that carries a page's data, and the sign-in link."""

from __future__ import annotations

import json
import re
from pathlib import Path

from actors.engine.answers import action_table
from actors.engine.stages import Action, Stage, Status, legal_actions
from gateway.auth import signin_link
from gateway.web.assets import AssetStore
from gateway.web.pages import SIGNIN_BODY, render_page


def test_the_action_table_is_the_engines_transition_table() -> None:
    table = action_table()
    assert set(table) == {s.value for s in Stage}
    for stage in Stage:
        for status in Status:
            rows = table[stage.value][status.value]
            for index, (pending, running) in enumerate(
                [(False, False), (False, True), (True, False), (True, True)]
            ):
                expected = legal_actions(stage, status, has_pending_clarification=pending, running=running)
                assert rows[index] == [a.value for a in expected]
    idle = table["idle"]["active"]
    assert idle[0] == ["start_requirements", "send_message"]
    assert Action.CONFIRM_REQUIREMENTS.value in table["requirements_review"]["active"][0]
    assert Action.CANCEL.value in table["requirements_drafting"]["active"][1]
    assert Action.ANSWER_CLARIFICATION.value in table["requirements_drafting"]["paused"][2]


def test_page_data_cannot_end_its_script_block() -> None:
    page = render_page(
        AssetStore(),
        title="<b>x</b>",
        entry="signin",
        body=SIGNIN_BODY,
        config={"evil": "</script><script>alert(1)</script>", "amp": "a&b"},
    )
    block = re.search(r'<script type="application/json" id="atelier-config">(.*?)</script>', page)
    assert block is not None
    assert json.loads(block.group(1)) == {"evil": "</script><script>alert(1)</script>", "amp": "a&b"}
    assert "<b>x</b>" not in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page
    assert page.count("<script") == 2  # the module and the data block, nothing injected


def test_unknown_or_traversing_asset_names_are_not_files(tmp_path: Path) -> None:
    store = AssetStore()
    for name in ("manifest.json", "../pages.py", "..%2Fpages.py", "nope-ABC.js", "", "a" * 200 + ".js"):
        assert store.get(name) is None, name
    some = next(iter(json.loads((store.directory / "manifest.json").read_text())["files"]))
    asset = store.get(some)
    assert asset is not None
    assert asset.body == (store.directory / some).read_bytes()


def test_the_sign_in_link_carries_the_token_in_the_fragment() -> None:
    assert signin_link("http://host:4321/", "a.b.c") == "http://host:4321/signin#token=a.b.c"
    assert signin_link("https://atelier.example", "t") == "https://atelier.example/signin#token=t"
