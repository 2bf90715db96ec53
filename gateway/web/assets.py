"""The built bundle: its manifest, its files in memory (gzipped once), served immutable.

Names carry a content hash (``design-WDM3ENIX.js``), so a file never changes under its
name: browsers keep it for a year without asking again, and a new build is new names in
the HTML (which is never cached without revalidation).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["STATIC_DIR", "WEB_DIR", "Asset", "AssetStore", "source_files", "source_hash"]

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}\.(js|css)$")
_TYPES = {"js": "text/javascript", "css": "text/css"}


@dataclass(frozen=True, slots=True)
class Asset:
    name: str
    body: bytes
    gzipped: bytes
    content_type: str
    etag: str


@dataclass(slots=True)
class AssetStore:
    """The files of one build, read once on first use (they are a few hundred KiB)."""

    directory: Path = STATIC_DIR
    _manifest: dict[str, object] | None = None
    _assets: dict[str, Asset] = field(default_factory=dict)

    @property
    def manifest(self) -> dict[str, object]:
        if self._manifest is None:
            path = self.directory / "manifest.json"
            try:
                self._manifest = json.loads(path.read_text())
            except FileNotFoundError:
                raise RuntimeError(
                    f"the web bundle is missing ({path}): run `npm ci && node build.mjs` in gateway/web"
                ) from None
        return self._manifest

    def entry(self, name: str) -> str:
        """The hashed file name of entry ``name`` (``design`` -> ``design-WDM3ENIX.js``)."""
        entries = self.manifest.get("entries")
        if not isinstance(entries, dict) or not isinstance(entries.get(name), str):
            raise RuntimeError(f"the web bundle has no entry {name!r}: rebuild it")
        return str(entries[name])

    def get(self, name: str) -> Asset | None:
        """The asset called ``name``, or None for anything that is not a file of the build."""
        if name in self._assets:
            return self._assets[name]
        files = self.manifest.get("files")
        if not _NAME.match(name) or not isinstance(files, dict) or name not in files:
            return None
        body = (self.directory / name).read_bytes()
        kind = name.rsplit(".", 1)[1]
        asset = Asset(
            name=name,
            body=body,
            gzipped=gzip.compress(body, compresslevel=9, mtime=0),
            content_type=_TYPES[kind],
            etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
        )
        self._assets[name] = asset
        return asset


def source_files(web_dir: Path = WEB_DIR) -> list[str]:
    """What the build depends on, as paths relative to ``web_dir`` (build.mjs lists the same)."""
    files = ["build.mjs", "package.json", "package-lock.json", "tsconfig.json"]
    files += [p.relative_to(web_dir).as_posix() for p in (web_dir / "src").rglob("*") if p.is_file()]
    return sorted(files)


def source_hash(web_dir: Path = WEB_DIR) -> str:
    """sha256 over ``path\\0bytes\\0`` of each source file in path order: build.mjs's hash."""
    digest = hashlib.sha256()
    for path in source_files(web_dir):
        digest.update(path.encode() + b"\0")
        digest.update((web_dir / path).read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()
