"""A short human title for a session, derived from its design brief (pure)."""

from __future__ import annotations

import re

__all__ = ["UNTITLED", "title_from_description"]


_LEADING_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "please",
        "i",
        "we",
        "you",
        "me",
        "us",
        "let's",
        "lets",
        "want",
        "wants",
        "need",
        "needs",
        "would",
        "like",
        "to",
        "help",
        "can",
        "could",
        "design",
        "designing",
        "build",
        "building",
        "create",
        "creating",
        "make",
        "making",
        "develop",
        "developing",
        "engineer",
        "prototype",
        "draft",
        "produce",
        "construct",
        "generate",
        "invent",
        "of",
    ]
)
_STOP_WORDS = frozenset(
    ["for", "with", "that", "to", "which", "who", "whose", "using", "so", "where", "when"]
)
_MINOR_WORDS = frozenset(["a", "an", "and", "as", "at", "by", "in", "of", "on", "or", "the"])
# A word ends the title phrase if punctuation follows it ("go-kart, for kids").
_CLAUSE_END = re.compile(r"[,.;:!?()\[\]{}\"]")
_TITLE_MAX_CHARS = 60
UNTITLED = "Untitled design"


def title_from_description(description: str, *, max_chars: int = _TITLE_MAX_CHARS) -> str:
    """A short human title for a design brief.

    "Design an electric go-kart for children ages 8-12" -> "Electric Go-Kart": leading
    verbs, fillers and articles are dropped, the phrase ends at the first connective
    ("for", "with", "that", "to", ...) or punctuation, words are title-cased (words
    already holding a capital, like "PCB" or "iPhone", are kept), and the result is cut
    at a word boundary to ``max_chars``. Nothing left gives "Untitled design".
    """
    words: list[str] = []
    for token in description.split():
        end = _CLAUSE_END.search(token)
        word = (token[: end.start()] if end else token).strip("'-_*")
        lower = word.lower()
        if not words and (not word or lower in _LEADING_WORDS):
            continue
        if lower in _STOP_WORDS:
            break
        if word:
            words.append(word)
        if end and words:
            break
    title = _cut(" ".join(_title_word(w, i == 0) for i, w in enumerate(words)), max_chars)
    return title or UNTITLED


def _title_word(word: str, first: bool) -> str:
    if any(c.isupper() for c in word):
        return word
    if not first and word in _MINOR_WORDS:
        return word
    return "-".join(part[:1].upper() + part[1:] for part in word.split("-"))


def _cut(title: str, max_chars: int) -> str:
    if len(title) <= max_chars:
        return title
    cut = title[: max_chars + 1].rsplit(" ", 1)[0]
    return (cut if 0 < len(cut) <= max_chars else title[:max_chars]).rstrip()
