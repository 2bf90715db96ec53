"""Operations on the store owner: one typed, immutable message each, per store.

``bridge`` (the Bridge's document log and versions), ``engine`` (the design engine's
records) and ``workspace`` (projects, sessions, runs, files, quota) each define theirs;
``actors/store/handlers.py`` registers each with its handler.
"""

from __future__ import annotations

from .base import StoreCalls as StoreCalls
from .base import StoreOp as StoreOp
from .base import answer_from_wire as answer_from_wire
from .base import answer_to_wire as answer_to_wire

__all__ = ["StoreCalls", "StoreOp", "answer_from_wire", "answer_to_wire"]
