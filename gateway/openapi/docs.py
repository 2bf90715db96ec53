"""A self-contained HTML reference rendered from the OpenAPI document (no script, nothing fetched)."""

from __future__ import annotations

import json
import re
from html import escape
from typing import Any

__all__ = ["render_docs"]

_METHODS = ("get", "post", "put", "patch", "delete")
_REF = re.compile(r"&quot;#/components/(schemas|responses|parameters|headers)/([A-Za-z0-9_.-]+)&quot;")

_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
main{max-width:980px;margin:0 auto;padding:24px}
nav{columns:2;font-size:14px}nav a{display:block}
h1{margin-top:0}h2{border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:40px}
section.op{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:12px 16px;margin:16px 0}
.method{display:inline-block;min-width:58px;text-align:center;font-weight:700;border-radius:4px;
color:#fff;padding:1px 6px;margin-right:8px;font-size:13px}
.get{background:#2f7d32}.post{background:#1565c0}.patch{background:#8e24aa}.delete{background:#c62828}
.put{background:#ef6c00}
code.path{font-size:15px;font-weight:600}
table{border-collapse:collapse;width:100%;font-size:14px;margin:6px 0}
td,th{border:1px solid #e3e3e3;padding:4px 8px;text-align:left;vertical-align:top}
pre{background:#f3f3f3;padding:8px;overflow:auto;font-size:12.5px;border-radius:4px;margin:4px 0}
.auth{font-size:13px;color:#555}details summary{cursor:pointer;font-size:14px}
"""


def _json(value: Any) -> str:
    text = escape(json.dumps(value, indent=2, ensure_ascii=False))
    return _REF.sub(lambda m: f'<a href="#{m.group(1)}-{m.group(2)}">&quot;{m.group(2)}&quot;</a>', text)


def _anchor(method: str, path: str) -> str:
    return f"{method}-" + re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-")


def _parameters(params: list[dict[str, Any]]) -> str:
    if not params:
        return ""
    rows = []
    for param in params:
        if "$ref" in param:
            rows.append(f"<tr><td colspan=4>{_json(param['$ref'])}</td></tr>")
            continue
        rows.append(
            f"<tr><td><code>{escape(param['name'])}</code></td><td>{escape(param['in'])}</td>"
            f"<td>{'required' if param.get('required') else ''}</td>"
            f"<td>{escape(param.get('description', ''))}<pre>{_json(param.get('schema', {}))}</pre></td></tr>"
        )
    return (
        "<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th></th><th>description</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _content(content: dict[str, Any]) -> str:
    return "".join(
        f"<div><code>{escape(media)}</code><pre>{_json(entry.get('schema', {}))}</pre></div>"
        for media, entry in content.items()
    )


def _operation(method: str, path: str, op: dict[str, Any], shared: list[dict[str, Any]]) -> str:
    auth = "bearer token required" if op.get("security") else "no token needed"
    parts = [
        f'<section class="op" id="{_anchor(method, path)}">'
        f'<div><span class="method {method}">{method.upper()}'
        f'</span><code class="path">{escape(path)}</code> — {escape(op.get("summary", ""))}</div>',
        f'<div class="auth">{auth} · <code>{escape(op.get("operationId", ""))}</code></div>',
    ]
    if op.get("description"):
        parts.append(f"<p>{escape(op['description'])}</p>")
    parts.append(_parameters([*shared, *op.get("parameters", [])]))
    if "requestBody" in op:
        request = op["requestBody"]
        required = " (required)" if request.get("required") else " (optional)"
        parts.append(f"<h4>Request body{required}</h4>{_content(request.get('content', {}))}")
    rows = []
    for status, response in op.get("responses", {}).items():
        if "$ref" in response:
            rows.append(f"<tr><td>{escape(status)}</td><td>{_json(response['$ref'])}</td></tr>")
        else:
            rows.append(
                f"<tr><td>{escape(status)}</td><td>{escape(response.get('description', ''))}"
                f"{_content(response.get('content', {}))}</td></tr>"
            )
    parts.append("<h4>Responses</h4><table>" + "".join(rows) + "</table></section>")
    return "".join(parts)


def render_docs(document: dict[str, Any]) -> str:
    """The HTML page for ``document`` (an OpenAPI 3.1 dict)."""
    info = document.get("info", {})
    by_tag: dict[str, list[str]] = {tag["name"]: [] for tag in document.get("tags", [])}
    toc: dict[str, list[str]] = {name: [] for name in by_tag}
    for path, item in document.get("paths", {}).items():
        for method in _METHODS:
            op = item.get(method)
            if op is None:
                continue
            tag = (op.get("tags") or ["Other"])[0]
            by_tag.setdefault(tag, []).append(_operation(method, path, op, item.get("parameters", [])))
            toc.setdefault(tag, []).append(
                f'<a href="#{_anchor(method, path)}">{method.upper()} {escape(path)}</a>'
            )
    body = [
        f"<h1>{escape(info.get('title', 'API'))} {escape(str(info.get('version', '')))}</h1>",
        f"<pre style='white-space:pre-wrap;background:none'>{escape(info.get('description', ''))}</pre>",
        '<p>The machine-readable document: <a href="/openapi.json">/openapi.json</a> (OpenAPI '
        f"{escape(str(document.get('openapi', '')))}).</p><nav>",
    ]
    for tag, links in toc.items():
        body.append(f"<strong>{escape(tag)}</strong>" + "".join(links))
    body.append("</nav>")
    descriptions = {tag["name"]: tag.get("description", "") for tag in document.get("tags", [])}
    for tag, sections in by_tag.items():
        body.append(f"<h2>{escape(tag)}</h2><p>{escape(descriptions.get(tag, ''))}</p>" + "".join(sections))
    body.append("<h2>Components</h2>")
    for kind, entries in document.get("components", {}).items():
        for name, value in entries.items():
            body.append(
                f'<details id="{escape(kind)}-{escape(name)}"><summary><code>{escape(kind)}/'
                f"{escape(name)}</code></summary><pre>{_json(value)}</pre></details>"
            )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>{escape(info.get('title', 'API'))} API reference</title><style>{_STYLE}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>"
    )
