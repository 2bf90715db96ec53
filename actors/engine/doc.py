"""A design session's artifacts inside its pycrdt document, so editors see AI work live.

Layout (one top-level map; browsers read it with ``doc.getMap("artifacts")``)::

    artifacts  Y.Map
      description              str
      requirements             Y.Array of Y.Map (one per RequirementDraft)
      bom                      Y.Map | null   rootAssembly: Y.Map node, children: Y.Array of
                                              Y.Map nodes, requirementTempIds: Y.Array ...
      clarifications           Y.Array of Y.Map
      userMessages             Y.Array of Y.Map
      pendingClarificationId?  str
      materializationResult?   Y.Map
      cadGenerationState?      Y.Map
      stage, status            str (the stage machine's values)
      draft                    Y.Text: the running stage's streamed LLM text

Every JSON object is a Y.Map and every array a Y.Array, all the way down, so a peer can
edit one requirement field or one BOM node without rewriting its siblings.

``apply_artifacts`` writes by difference: unchanged values are not rewritten, arrays keep
their common prefix and suffix and edit only the middle, and objects are updated key by
key, so a new ``artifact_update`` costs browsers only what changed (and an identical one
costs nothing). ``read_artifacts`` returns the JSON written (numbers normalized as in
``actors.core.values``: Yjs stores every number as a float).

All writers open ``doc.transaction()``, which joins a transaction the caller holds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pycrdt import Array, Doc, Map, Text

from actors.core.values import normalize_json

from .stages import Stage, Status

__all__ = [
    "ARTIFACTS",
    "DRAFT",
    "ENGINE_KEYS",
    "append_draft_text",
    "apply_artifacts",
    "artifacts_map",
    "clear_draft",
    "read_artifacts",
    "read_draft",
    "read_stage",
    "set_stage",
]

ARTIFACTS = "artifacts"
DRAFT = "draft"
STAGE = "stage"
STATUS = "status"
# Keys of the artifacts map that are the engine's, not part of DesignArtifacts.
ENGINE_KEYS = frozenset({STAGE, STATUS, DRAFT})


def artifacts_map(doc: Doc[Any]) -> Map[Any]:
    root: Map[Any] = doc.get(ARTIFACTS, type=Map)
    return root


def apply_artifacts(doc: Doc[Any], artifacts: Mapping[str, Any]) -> None:
    """Make the stored artifacts equal ``artifacts`` (already validated, complete),
    rewriting only what differs. Keys not in ``artifacts`` are removed (engine keys stay)."""
    with doc.transaction():
        _sync_map(artifacts_map(doc), artifacts, keep=ENGINE_KEYS)


def read_artifacts(doc: Doc[Any]) -> dict[str, Any]:
    """The stored artifacts as JSON (engine keys excluded); ``{}`` for a fresh document."""
    with doc.transaction():
        root = artifacts_map(doc)
        return {key: normalize_json(root[key]) for key in sorted(root.keys()) if key not in ENGINE_KEYS}


def set_stage(doc: Doc[Any], stage: Stage, status: Status) -> None:
    with doc.transaction():
        root = artifacts_map(doc)
        for key, value in ((STAGE, stage.value), (STATUS, status.value)):
            if root.get(key) != value:
                root[key] = value


def read_stage(doc: Doc[Any]) -> tuple[Stage, Status] | None:
    """The stored stage and status; None when absent or not values of the enums (a peer
    may have written anything)."""
    with doc.transaction():
        root = artifacts_map(doc)
        stage, status = root.get(STAGE), root.get(STATUS)
    if stage not in set(Stage) or status not in set(Status):
        return None
    return Stage(stage), Status(status)


def append_draft_text(doc: Doc[Any], text: str, *, max_chars: int | None = None) -> None:
    """Append streamed LLM text to the draft; with ``max_chars``, drop the oldest text so
    the draft stays within that many characters (a long run must not grow the document
    without bound)."""
    if not text:
        return
    with doc.transaction():
        draft = _draft(doc)
        if max_chars is not None:
            if len(text) >= max_chars:
                draft.clear()
                draft += text[len(text) - max_chars :]
                return
            current = str(draft)
            excess = len(current) + len(text) - max_chars
            if excess > 0:
                # pycrdt indexes text by UTF-8 bytes: delete a whole-character prefix.
                del draft[0 : len(current[:excess].encode("utf-8"))]
        draft += text


def clear_draft(doc: Doc[Any]) -> None:
    with doc.transaction():
        root = artifacts_map(doc)
        draft = root.get(DRAFT)
        if isinstance(draft, Text):
            if len(draft):
                draft.clear()
        elif DRAFT in root:
            root[DRAFT] = Text()


def read_draft(doc: Doc[Any]) -> str:
    with doc.transaction():
        draft = artifacts_map(doc).get(DRAFT)
        return str(draft) if isinstance(draft, Text) else ""


def _draft(doc: Doc[Any]) -> Text:
    root = artifacts_map(doc)
    draft = root.get(DRAFT)
    if not isinstance(draft, Text):
        root[DRAFT] = Text()
        draft = root[DRAFT]
    assert isinstance(draft, Text)
    return draft


# ---------------------------------------------------------------------------- diff writes


def _prelim(value: Any) -> Any:
    """A JSON value as not-yet-integrated Y types (objects -> Y.Map, arrays -> Y.Array)."""
    if isinstance(value, Mapping):
        return Map({str(k): _prelim(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return Array([_prelim(v) for v in value])
    return value


def _sync_map(target: Map[Any], values: Mapping[str, Any], *, keep: frozenset[str] = frozenset()) -> None:
    for stale in [k for k in target.keys() if k not in values and k not in keep]:  # noqa: SIM118 (pycrdt types Map.__iter__ as Iterable)
        del target[stale]
    for key, value in values.items():
        if key not in target or not _sync_in_place(target[key], value):
            target[key] = _prelim(value)


def _sync_array(target: Array[Any], values: Sequence[Any]) -> None:
    old = [normalize_json(item) for item in target]
    shortest = min(len(old), len(values))
    prefix = 0
    while prefix < shortest and _same(old[prefix], values[prefix]):
        prefix += 1
    suffix = 0
    while suffix < shortest - prefix and _same(old[-1 - suffix], values[-1 - suffix]):
        suffix += 1
    old_end, new_end = len(old) - suffix, len(values) - suffix
    # The changed middle: pair items up (so an edited requirement is edited, not replaced),
    # then delete what is left of the old middle or insert what is left of the new one.
    paired = min(old_end, new_end) - prefix
    for i in range(prefix, prefix + paired):
        if not _sync_in_place(target[i], values[i]):
            del target[i]
            target.insert(i, _prelim(values[i]))
    if old_end > new_end:
        del target[prefix + paired : old_end]
    for offset, value in enumerate(values[prefix + paired : new_end]):
        target.insert(prefix + paired + offset, _prelim(value))


def _sync_in_place(current: Any, value: Any) -> bool:
    """Make ``current`` equal ``value`` by editing it; False when it must be replaced."""
    if isinstance(value, Mapping) and isinstance(current, Map):
        _sync_map(current, value)
        return True
    if isinstance(value, (list, tuple)) and isinstance(current, Array):
        _sync_array(current, value)
        return True
    return _same(normalize_json(current), value)


def _same(stored: Any, value: Any) -> bool:
    """JSON equality that, unlike ``==``, tells ``true`` from ``1``."""
    if isinstance(stored, bool) or isinstance(value, bool):
        return isinstance(stored, bool) and isinstance(value, bool) and stored == value
    if isinstance(stored, (int, float)) and isinstance(value, (int, float)):
        return stored == value
    if isinstance(stored, Mapping) and isinstance(value, Mapping):
        return stored.keys() == value.keys() and all(_same(stored[k], value[k]) for k in stored)
    if isinstance(stored, list) and isinstance(value, (list, tuple)):
        return len(stored) == len(value) and all(_same(a, b) for a, b in zip(stored, value, strict=True))
    return type(stored) is type(value) and bool(stored == value)
