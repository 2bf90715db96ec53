"""Text extraction and chunking by value: PDF (built here), text, Markdown, CSV, JSON."""

from __future__ import annotations

import itertools
import json
import pickle

import pytest

from actors.workspace.extract import (
    ExtractionError,
    ExtractLimits,
    ExtractReason,
    FileKind,
    chunk_text,
    detect_kind,
    extract_chunks,
    extract_text,
)

from .samples import encrypted_pdf, make_pdf


def reason_of(
    data: bytes, name: str, content_type: str | None = None, limits: ExtractLimits | None = None
) -> ExtractReason:
    with pytest.raises(ExtractionError) as failed:
        extract_text(data, name, content_type, limits or ExtractLimits())
    return failed.value.reason


@pytest.mark.parametrize(
    ("name", "content_type", "kind"),
    [
        ("report.PDF", None, FileKind.PDF),
        ("notes.md", "application/octet-stream", FileKind.MARKDOWN),
        ("data.csv", None, FileKind.CSV),
        ("x.json", None, FileKind.JSON),
        ("readme.txt", None, FileKind.TEXT),
        ("upload", "application/pdf", FileKind.PDF),
        ("upload", "text/csv; charset=utf-8", FileKind.CSV),
        ("C:\\docs\\plan.markdown", None, FileKind.MARKDOWN),
    ],
)
def test_detect_kind(name: str, content_type: str | None, kind: FileKind) -> None:
    assert detect_kind(name, content_type) is kind


def test_unsupported_types() -> None:
    assert reason_of(b"PK\x03\x04", "deck.pptx", "application/vnd.ms-powerpoint") is ExtractReason.UNSUPPORTED
    assert reason_of(b"x", "noext") is ExtractReason.UNSUPPORTED


def test_pdf_text_from_every_page() -> None:
    data = make_pdf([["Technological uncertainty: latency (p99)", "Hypothesis A"], ["Result: 40% faster"]])
    text = extract_text(data, "claim.pdf", "application/pdf")
    assert text == "Technological uncertainty: latency (p99)\nHypothesis A\n\nResult: 40% faster"


def test_pdf_failures() -> None:
    assert reason_of(b"%PDF-1.4\n garbage", "broken.pdf") is ExtractReason.CORRUPT
    assert reason_of(b"not a pdf at all", "fake.pdf") is ExtractReason.CORRUPT
    assert reason_of(encrypted_pdf([["secret"]], "pw"), "locked.pdf") is ExtractReason.ENCRYPTED
    # An empty user password only restricts editing: the text is readable.
    assert extract_text(encrypted_pdf([["open text"]], ""), "open.pdf") == "open text"
    assert reason_of(make_pdf([[]]), "scan.pdf") is ExtractReason.NO_TEXT
    assert reason_of(make_pdf([["a"], ["b"], ["c"]]), "long.pdf", limits=ExtractLimits(max_pages=2)) is (
        ExtractReason.TOO_LARGE
    )


def test_text_and_markdown_decoding() -> None:
    assert extract_text("# Title\r\n\r\nBody é".encode(), "a.md") == "# Title\n\nBody é"
    assert extract_text(b"\xef\xbb\xbfwith BOM", "a.txt") == "with BOM"
    assert extract_text("utf16 ü".encode("utf-16"), "a.txt") == "utf16 ü"
    assert extract_text("café".encode("cp1252"), "a.txt") == "café"
    assert reason_of(b"\x00\x01\x02binary", "a.txt") is ExtractReason.CORRUPT
    assert reason_of(b"\x81\x8d\x8f\x90\x9d", "a.txt") is ExtractReason.CORRUPT
    assert reason_of(b"  \n\t ", "empty.md") is ExtractReason.NO_TEXT


def test_csv_rows_carry_their_header() -> None:
    data = b'date,activity,hours\n2025-01-03,"Prototype, rev A",6\n\n2025-01-04,Load test,\n'
    assert extract_text(data, "log.csv") == (
        "row 1: date: 2025-01-03; activity: Prototype, rev A; hours: 6\n"
        "row 2: date: 2025-01-04; activity: Load test"
    )
    assert extract_text(b"only,a,header\n", "h.csv") == "only, a, header"
    assert extract_text(b"a,b\n1,2,3\n", "extra.csv") == "row 1: a: 1; b: 2; column 3: 3"


def test_json_is_reindented_and_validated() -> None:
    text = extract_text(b'{"project":"W","tasks":[{"id":1,"name":"caf\\u00e9"}]}', "p.json")
    assert json.loads(text) == {"project": "W", "tasks": [{"id": 1, "name": "café"}]}
    assert '\n  "tasks": [' in text
    assert "café" in text
    assert reason_of(b'{"open": ', "bad.json") is ExtractReason.CORRUPT


def test_size_bounds() -> None:
    assert reason_of(b"x" * 11, "a.txt", limits=ExtractLimits(max_bytes=10)) is ExtractReason.TOO_LARGE
    assert reason_of(b"x" * 11, "a.txt", limits=ExtractLimits(max_chars=10)) is ExtractReason.TOO_LARGE


def test_chunks_overlap_and_prefer_boundaries() -> None:
    text = " ".join(f"word{n:03d}" for n in range(200))  # 1599 characters
    chunks = chunk_text(text, size=100, overlap=20)
    assert all(len(c) <= 100 for c in chunks)
    # Cut between words, never inside one...
    assert all(c.split()[0].startswith("word") and len(c.split()[-1]) == 7 for c in chunks)
    # ...with each chunk starting inside the previous one, and nothing lost.
    for before, after in itertools.pairwise(chunks):
        assert after.split()[0] in before
    assert {w for c in chunks for w in c.split()} == set(text.split())


def test_chunks_prefer_paragraphs() -> None:
    text = "A" * 60 + "\n\n" + "B" * 60
    assert chunk_text(text, size=100, overlap=10)[0] == "A" * 60


def test_chunking_edges() -> None:
    assert chunk_text("", 10, 2) == []
    assert chunk_text("short", 10, 2) == ["short"]
    unbroken = "x" * 25
    assert chunk_text(unbroken, 10, 0) == ["x" * 10, "x" * 10, "x" * 5]
    assert [len(c) for c in chunk_text(unbroken, 10, 9)][:3] == [10, 10, 10]
    with pytest.raises(ValueError, match="need size >= 1 and 0 <= overlap < size"):
        chunk_text("x", 10, 10)
    with pytest.raises(ExtractionError) as too_many:
        chunk_text("x" * 100, 10, 0, max_chunks=5)
    assert too_many.value.reason is ExtractReason.TOO_LARGE
    with pytest.raises(ValueError, match="chunk_overlap must be at least 0 and smaller than chunk_chars"):
        ExtractLimits(chunk_chars=100, chunk_overlap=100)


def test_extract_chunks_and_errors_pickle() -> None:
    limits = ExtractLimits(chunk_chars=50, chunk_overlap=10)
    chunks = extract_chunks(("Line of notes. " * 20).encode(), "n.txt", None, limits)
    assert len(chunks) > 1
    assert all(len(c) <= 50 for c in chunks)
    error = pickle.loads(pickle.dumps(ExtractionError(ExtractReason.CORRUPT, "bad")))
    assert (error.reason, error.message, str(error)) == (ExtractReason.CORRUPT, "bad", "corrupt: bad")
