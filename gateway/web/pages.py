"""The pages' HTML: a small static shell per page, its data in a JSON block, its script
and stylesheet by their content-hashed names. The scripts fill everything else in."""

from __future__ import annotations

import html
import json
from typing import Any

from .assets import AssetStore

__all__ = ["CHAT_BODY", "DESIGN_BODY", "PREVIEW_BODY", "SIGNIN_BODY", "render_page"]

_NAV = (
    '<header class="topbar"><a class="brand" href="/projects">atelier</a>'
    '<nav aria-label="Main"><a href="/projects">Projects</a><a href="/signin">Sign in</a></nav>'
    '<div class="user" id="user" aria-live="polite"></div></header>'
)


def _json_block(config: dict[str, Any]) -> str:
    # Inside <script> only "</" could end the block early: escape every "<" (and "&" for
    # good measure); JSON.parse reads the \u escapes back.
    text = json.dumps(config, separators=(",", ":")).replace("<", "\\u003c").replace("&", "\\u0026")
    return f'<script type="application/json" id="atelier-config">{text}</script>'


def render_page(assets: AssetStore, *, title: str, entry: str, body: str, config: dict[str, Any]) -> str:
    script = assets.entry(entry)
    style = assets.entry("style")
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        f'<link rel="stylesheet" href="/assets/{style}">'
        f'<script type="module" src="/assets/{script}"></script>'
        f"</head><body>{_NAV}{body}{_json_block(config)}</body></html>\n"
    )


SIGNIN_BODY = """
<main id="main">
  <h1>Sign in</h1>
  <section class="panel">
    <p>atelier signs you in with a bearer token (a JWT). Mint one on the server with
    <code>atelier token --user &lt;you&gt; --link</code> and open the printed link, or paste the token here.
    It is kept for this browser tab only (session storage) and sent as <code>Authorization: Bearer</code>.</p>
    <form id="signin-form" class="stack-form">
      <label for="token">Token</label>
      <textarea id="token" name="token" rows="4" autocomplete="off" spellcheck="false"></textarea>
      <div><button type="submit">Sign in</button></div>
    </form>
    <p id="signin-status" class="status" role="status" aria-live="polite"></p>
  </section>
</main>
"""

PREVIEW_BODY = """
<main id="main">
  <h1><span id="session-name">Session</span> <span class="badge" id="session-revision"></span></h1>
  <section class="panel" aria-labelledby="presence-title">
    <h2 id="presence-title">Who is here <span class="badge" id="presence-count"></span></h2>
    <ul class="presence" id="presence"></ul>
    <p id="live-status" class="status" role="status" aria-live="polite">Loading…</p>
  </section>
  <section aria-label="Live preview">
    <style id="theme-css"></style>
    <div class="preview" id="preview"></div>
  </section>
</main>
"""

DESIGN_BODY = """
<main id="main">
  <h1 id="design-title">Design session</h1>
  <p id="live-status" class="status" role="status" aria-live="polite">Loading…</p>
  <div id="workspace" hidden>
    <section class="panel" aria-labelledby="stages-title">
      <h2 id="stages-title">Stages</h2>
      <div id="timeline"></div>
    </section>
    <section class="panel" aria-labelledby="actions-title">
      <h2 id="actions-title">Actions</h2>
      <div id="actions"></div>
      <p id="action-status" class="status" role="status" aria-live="polite"></p>
    </section>
    <div class="grid">
      <section class="panel" aria-labelledby="draft-title">
        <h2 id="draft-title">The AI's text</h2>
        <p id="draft-state" class="muted"></p>
        <div id="draft" class="draft" tabindex="0" aria-label="The AI's text"></div>
      </section>
      <section class="panel" aria-labelledby="questions-title">
        <h2 id="questions-title">Questions</h2>
        <div id="clarifications"></div>
        <div id="user-messages"></div>
      </section>
    </div>
    <section class="panel" aria-labelledby="requirements-title">
      <h2 id="requirements-title">Requirements</h2>
      <div id="requirements"></div>
    </section>
    <section class="panel" aria-labelledby="bom-title">
      <h2 id="bom-title">Bill of materials</h2>
      <div id="bom"></div>
    </section>
    <section class="panel" id="materialize-section" aria-labelledby="materialize-title" hidden>
      <h2 id="materialize-title">Materialization</h2>
      <div class="buttons">
        <button type="button" class="secondary" id="preview-materialize">Preview materialization</button>
        <button type="button" id="execute-materialize">Execute materialization</button>
      </div>
      <div id="materialize-preview"></div>
      <div id="materialize-result"></div>
    </section>
    <section class="panel" id="cad-section" aria-labelledby="cad-title" hidden>
      <h2 id="cad-title">CAD</h2>
      <div id="cad"></div>
      <h3 id="viewer-title">3D view</h3>
      <div id="viewer" class="viewer"></div>
    </section>
    <section class="panel" aria-labelledby="activity-title">
      <h2 id="activity-title">Activity</h2>
      <div id="activity"></div>
    </section>
  </div>
</main>
"""

CHAT_BODY = """
<main id="main">
  <h1>Workspace</h1>
  <p id="quota" class="muted" aria-live="polite"></p>
  <p id="page-status" class="status" role="status" aria-live="polite"></p>
  <div class="grid-3">
    <section class="panel" aria-labelledby="projects-title">
      <h2 id="projects-title">Projects</h2>
      <ul class="list" id="projects"></ul>
      <form id="project-form" class="stack-form">
        <label for="project-name-input">New project</label>
        <input id="project-name-input" name="name" required>
        <label for="project-year">Fiscal year</label>
        <input id="project-year" name="fiscalYear" required pattern="[0-9]{4}" value="2025">
        <div><button type="submit">Create project</button></div>
      </form>
    </section>
    <section class="panel" id="project-panel" aria-labelledby="project-name" hidden>
      <h2 id="project-name">Project</h2>
      <h3>Sessions</h3>
      <ul class="list" id="sessions"></ul>
      <form id="session-form" class="stack-form">
        <label for="session-type">Type</label>
        <select id="session-type" name="type"></select>
        <label for="session-title">Title</label>
        <input id="session-title" name="title">
        <div><button type="submit">New session</button></div>
      </form>
      <h3>Files</h3>
      <ul class="list files" id="files"></ul>
      <form id="upload-form" class="stack-form">
        <label for="upload-file">Upload a file</label>
        <input type="file" id="upload-file" name="file" required>
        <div><button type="submit">Upload</button></div>
      </form>
    </section>
    <section class="panel" id="chat-panel" aria-labelledby="chat-title" hidden>
      <h2 id="chat-title">Chat</h2>
      <ol class="history" id="history" aria-label="Messages" tabindex="0"></ol>
      <form id="chat-form" class="stack-form">
        <label for="chat-input">Ask (tick READY files to attach them)</label>
        <textarea id="chat-input" name="input" rows="3" required></textarea>
        <div><button type="submit" id="chat-send">Send</button></div>
      </form>
    </section>
  </div>
</main>
"""
