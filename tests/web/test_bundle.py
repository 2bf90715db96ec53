"""The committed bundle is what the lock file and the sources build, and the gateway serves
it fast: content-hashed names cached for a year, HTML revalidated, gzip, nothing from a CDN."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from gateway.web.assets import STATIC_DIR, WEB_DIR, source_hash

from ..harness import Gateway
from .tools import ensure_web_node_modules

pytestmark = [pytest.mark.integration]

PAGES = [
    "/signin",
    "/projects",
    "/sessions/00000000-0000-4000-8000-000000000000",
    "/designs/collaborative/00000000-0000-4000-8000-000000000000",
]


def _manifest(directory: Path) -> dict[str, object]:
    manifest: dict[str, object] = json.loads((directory / "manifest.json").read_text())
    return manifest


def test_the_committed_bundle_was_built_from_the_current_sources() -> None:
    # No node needed: build.mjs recorded the hash of everything it read.
    assert _manifest(STATIC_DIR)["sourceHash"] == source_hash(), (
        "gateway/web sources changed since the bundle was built: "
        "run `npm ci && node build.mjs` in gateway/web"
    )


def test_a_fresh_build_from_the_lock_file_matches_the_committed_bundle(tmp_path: Path) -> None:
    ensure_web_node_modules()
    node = shutil.which("node")
    assert node is not None
    result = subprocess.run(
        [node, "build.mjs", "--outdir", str(tmp_path)],
        cwd=WEB_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    fresh = sorted(p.name for p in tmp_path.iterdir())
    committed = sorted(p.name for p in STATIC_DIR.iterdir())
    assert fresh == committed
    for name in fresh:
        assert (tmp_path / name).read_bytes() == (STATIC_DIR / name).read_bytes(), name


def test_the_bundle_stays_small() -> None:
    files = _manifest(STATIC_DIR)["files"]
    assert isinstance(files, dict)
    entries = _manifest(STATIC_DIR)["entries"]
    assert isinstance(entries, dict)
    assert set(entries) == {"signin", "preview", "design", "chat", "style"}
    # Every page's own code is small; three.js is the one big chunk, loaded only by the 3D view
    # (a dynamic import of the design page).
    for entry in ("signin", "preview", "design", "chat", "style"):
        assert files[entries[entry]]["gzip"] < 16 * 1024, entry
    assert sum(f["gzip"] for f in files.values()) < 400 * 1024


async def test_assets_are_immutable_and_pages_revalidated(web_gateway: Gateway) -> None:
    assert web_gateway.http is not None
    for path in PAGES:
        async with web_gateway.http.get(path) as response:
            assert response.status == 200, path
            assert response.headers["Cache-Control"] == "no-cache"
            assert response.content_type == "text/html"
            assert "script-src 'self'" in response.headers["Content-Security-Policy"]
            html = await response.text()
        # Everything the page loads is ours: no CDN, no absolute URL.
        sources = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert sources, sources
        assert all(s.startswith("/") and not s.startswith("//") for s in sources), sources
        for src in (s for s in sources if s.startswith("/assets/")):
            async with web_gateway.http.get(
                src, headers={"Accept-Encoding": "gzip"}, auto_decompress=False
            ) as asset:
                assert asset.status == 200, src
                assert asset.headers["Cache-Control"] == "public, max-age=31536000, immutable"
                assert asset.headers["Content-Encoding"] == "gzip"
                body = gzip.decompress(await asset.read())
                assert body == (STATIC_DIR / src.removeprefix("/assets/")).read_bytes()
                etag = asset.headers["ETag"]
            async with web_gateway.http.get(src, headers={"If-None-Match": etag}) as again:
                assert again.status == 304
    for bad in ("/assets/manifest.json", "/assets/..%2Fpages.py", "/assets/nope-ABC.js"):
        async with web_gateway.http.get(bad) as response:
            assert response.status == 404, bad
    # Chunks import each other by relative names that resolve under /assets/ too.
    files = _manifest(STATIC_DIR)["files"]
    assert isinstance(files, dict)
    for name in files:
        async with web_gateway.http.get(f"/assets/{name}") as response:
            assert response.status == 200, name


def test_the_typescript_sources_type_check() -> None:
    modules = ensure_web_node_modules()
    result = subprocess.run(
        [shutil.which("node") or "node", str(modules / "typescript" / "bin" / "tsc"), "-p", "."],
        cwd=WEB_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
