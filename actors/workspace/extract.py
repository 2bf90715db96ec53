"""Text out of an uploaded file, and that text in chunks (pure: bytes in, strings out).

The kind of a file is read from its name's extension first and its content type second
(browsers send ``application/octet-stream`` for much): PDF (pypdf), plain text, Markdown,
CSV and JSON. CSV rows are written out as ``column: value`` lines, so every chunk stands on
its own without the header row; JSON is re-indented so chunks break between values.

Every failure is an ``ExtractionError`` with a ``reason`` code (stored as the file's FAILED
reason together with the message): the type is not supported, the bytes are not what the
type says, the PDF is encrypted, the text is too large, or there is no text at all (a scanned
PDF). Every size is bounded by ``ExtractLimits``.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import logging
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath

__all__ = [
    "ExtractLimits",
    "ExtractReason",
    "ExtractionError",
    "FileKind",
    "chunk_text",
    "detect_kind",
    "extract_chunks",
    "extract_text",
]

log = logging.getLogger(__name__)


class FileKind(StrEnum):
    PDF = "pdf"
    TEXT = "text"
    MARKDOWN = "markdown"
    CSV = "csv"
    JSON = "json"


class ExtractReason(StrEnum):
    UNSUPPORTED = "unsupported_type"
    CORRUPT = "corrupt"
    ENCRYPTED = "encrypted"
    TOO_LARGE = "too_large"
    NO_TEXT = "no_text"


class ExtractionError(Exception):
    """Why a file yields no chunks; ``str()`` is ``"<reason>: <message>"``."""

    def __init__(self, reason: ExtractReason, message: str) -> None:
        super().__init__(f"{reason.value}: {message}")
        self.reason = reason
        self.message = message

    def __reduce__(self) -> tuple[type[ExtractionError], tuple[ExtractReason, str]]:
        return (ExtractionError, (self.reason, self.message))


@dataclass(frozen=True, slots=True)
class ExtractLimits:
    max_bytes: int = 25 * 1024 * 1024
    max_pages: int = 500
    max_chars: int = 2_000_000
    chunk_chars: int = 2_000
    chunk_overlap: int = 200
    max_chunks: int = 2_000

    def __post_init__(self) -> None:
        if self.chunk_chars < 1 or not 0 <= self.chunk_overlap < self.chunk_chars:
            raise ValueError("chunk_overlap must be at least 0 and smaller than chunk_chars")


_EXTENSIONS: dict[str, FileKind] = {
    ".pdf": FileKind.PDF,
    ".txt": FileKind.TEXT,
    ".text": FileKind.TEXT,
    ".log": FileKind.TEXT,
    ".md": FileKind.MARKDOWN,
    ".markdown": FileKind.MARKDOWN,
    ".csv": FileKind.CSV,
    ".json": FileKind.JSON,
}

_CONTENT_TYPES: dict[str, FileKind] = {
    "application/pdf": FileKind.PDF,
    "text/plain": FileKind.TEXT,
    "text/markdown": FileKind.MARKDOWN,
    "text/x-markdown": FileKind.MARKDOWN,
    "text/csv": FileKind.CSV,
    "application/csv": FileKind.CSV,
    "application/json": FileKind.JSON,
    "text/json": FileKind.JSON,
}


def detect_kind(name: str, content_type: str | None) -> FileKind:
    kind = _EXTENSIONS.get(PurePosixPath(name.replace("\\", "/")).suffix.lower())
    if kind is not None:
        return kind
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    kind = _CONTENT_TYPES.get(mime)
    if kind is not None:
        return kind
    supported = ", ".join(sorted(_EXTENSIONS))
    raise ExtractionError(
        ExtractReason.UNSUPPORTED,
        f"{name!r} ({mime or 'no content type'}) is not a supported file (supported: {supported})",
    )


# --- decoding -----------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252 as spreadsheets
    export it; bytes that are none of these (a binary file renamed .txt) are refused."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise ExtractionError(ExtractReason.CORRUPT, "not valid UTF-16 text") from None
    if b"\x00" in data:
        raise ExtractionError(ExtractReason.CORRUPT, "binary data, not text")
    for encoding in ("utf-8-sig", "cp1252"):  # UTF-8 first; legacy Windows text second
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ExtractionError(ExtractReason.CORRUPT, "not UTF-8 or Windows-1252 text")


def _clean(text: str) -> str:
    # NUL cannot be stored in Postgres TEXT; CRLF becomes LF so chunk sizes mean the same.
    return text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")


def _pdf_text(data: bytes, limits: ExtractLimits) -> str:
    # Imported per call, not with the module: only the extraction task reads PDFs, and every
    # process that imports this module (gateway, hosts, run workers) would pay ~10 MiB.
    import pypdf
    from pypdf.errors import PyPdfError

    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            # Many PDFs are "encrypted" with an empty user password only to forbid editing.
            try:
                opened = reader.decrypt("")
            except (PyPdfError, NotImplementedError) as exc:
                raise ExtractionError(ExtractReason.ENCRYPTED, f"the PDF cannot be decrypted: {exc}") from exc
            if not opened:
                raise ExtractionError(ExtractReason.ENCRYPTED, "the PDF is password-protected")
        count = len(reader.pages)
        if count > limits.max_pages:
            raise ExtractionError(
                ExtractReason.TOO_LARGE, f"the PDF has {count} pages (at most {limits.max_pages})"
            )
        pages: list[str] = []
        total = 0
        for page in reader.pages:
            text = page.extract_text() or ""
            total += len(text)
            if total > limits.max_chars:
                raise ExtractionError(
                    ExtractReason.TOO_LARGE, f"more than {limits.max_chars} characters of text"
                )
            pages.append(text)
    except ExtractionError:
        raise
    except Exception as exc:
        # A malformed PDF can make pypdf raise almost anything (KeyError, ValueError, ...):
        # each is this one file's failure, reported as such, never the indexer's.
        log.info("pdf extraction failed error=%s: %s", type(exc).__name__, exc)
        raise ExtractionError(
            ExtractReason.CORRUPT, f"not a readable PDF ({type(exc).__name__}: {exc})"
        ) from exc
    return "\n\n".join(page.strip() for page in pages if page.strip())


def _csv_text(text: str) -> str:
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise ExtractionError(ExtractReason.CORRUPT, f"not a readable CSV file: {exc}") from exc
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if len(rows) < 2:
        return "\n".join(", ".join(row) for row in rows)
    header = [cell.strip() or f"column {n + 1}" for n, cell in enumerate(rows[0])]
    lines: list[str] = []
    for number, row in enumerate(rows[1:], start=1):
        cells = [
            f"{header[n] if n < len(header) else f'column {n + 1}'}: {value.strip()}"
            for n, value in enumerate(row)
            if value.strip()
        ]
        lines.append(f"row {number}: " + "; ".join(cells))
    return "\n".join(lines)


def _json_text(text: str) -> str:
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ExtractionError(ExtractReason.CORRUPT, f"not valid JSON: {exc}") from exc
    return json.dumps(value, indent=2, ensure_ascii=False)


def extract_text(
    data: bytes, name: str, content_type: str | None = None, limits: ExtractLimits = ExtractLimits()
) -> str:
    """The file's text, cleaned; raises ``ExtractionError``."""
    if len(data) > limits.max_bytes:
        raise ExtractionError(ExtractReason.TOO_LARGE, f"{len(data)} bytes (at most {limits.max_bytes})")
    kind = detect_kind(name, content_type)
    if kind is FileKind.PDF:
        text = _pdf_text(data, limits)
    else:
        decoded = _decode(data)
        if kind is FileKind.CSV:
            text = _csv_text(decoded)
        elif kind is FileKind.JSON:
            text = _json_text(decoded)
        else:
            text = decoded
    text = _clean(text).strip()
    if len(text) > limits.max_chars:
        raise ExtractionError(ExtractReason.TOO_LARGE, f"more than {limits.max_chars} characters of text")
    if not text:
        raise ExtractionError(ExtractReason.NO_TEXT, "the file has no extractable text")
    return text


# --- chunking -----------------------------------------------------------------------------

# Where a chunk prefers to end, best first: a paragraph, a line, a sentence, a word.
_BREAKS = ("\n\n", "\n", ". ", " ")
_SPACE = re.compile(r"\s+")


def _cut(text: str, start: int, size: int, overlap: int) -> int:
    end = start + size
    if end >= len(text):
        return len(text)
    # Only a break past the overlap and half of the rest: an early break would make tiny
    # chunks, and each next chunk still starts well after this one did.
    floor = start + overlap + (size - overlap) // 2
    for mark in _BREAKS:
        at = text.rfind(mark, floor, end)
        if at != -1:
            return at + len(mark)
    return end


def chunk_text(text: str, size: int, overlap: int, max_chunks: int | None = None) -> list[str]:
    """Chunks of at most ``size`` characters, each starting ``overlap`` characters before
    the previous one ended (so a sentence cut at a boundary is whole in one of them)."""
    if size < 1 or not 0 <= overlap < size:
        raise ValueError("need size >= 1 and 0 <= overlap < size")
    chunks: list[str] = []
    start = 0
    while start < len(text):
        end = _cut(text, start, size, overlap)
        piece = text[start:end].strip()
        if piece:
            if max_chunks is not None and len(chunks) >= max_chunks:
                raise ExtractionError(
                    ExtractReason.TOO_LARGE, f"the text makes more than {max_chunks} chunks"
                )
            chunks.append(piece)
        if end >= len(text):
            break
        # Always forward, even when the break left less than the overlap behind; and from
        # the start of a word, so the overlap repeats whole words.
        start = max(end - overlap, start + 1)
        space = _SPACE.search(text, start, end)
        if space is not None and start > 0 and not text[start - 1].isspace():
            start = space.end()
    return chunks


def extract_chunks(
    data: bytes, name: str, content_type: str | None = None, limits: ExtractLimits = ExtractLimits()
) -> list[str]:
    """``extract_text`` then ``chunk_text`` with the limits' chunk size, overlap and bound."""
    text = extract_text(data, name, content_type, limits)
    return chunk_text(text, limits.chunk_chars, limits.chunk_overlap, limits.max_chunks)
