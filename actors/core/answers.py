"""What every operation's answer is: camelCase JSON, and nothing its type does not know (pure).

Each API's ``answers.py`` derives its answers from ``Answer``. The session client rebuilds
a host's answer as its op's type (``actors/core/ops.py``); refusing an unknown field there,
rather than dropping it, makes a host and its type that drift apart fail loudly, in tests
first. The OpenAPI document's answer schemas are generated from the same types.
"""

from __future__ import annotations

import msgspec

__all__ = ["Answer"]


class Answer(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """An operation's answer."""
