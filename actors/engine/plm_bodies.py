"""What the PLM routes accept (programs, members, designs, the item search), typed once
(pure but for the store's record enums).

The gateway decodes each request as one of these types and the OpenAPI document is
generated from them. A name of blanks only is refused after decoding (``plm._not_blank``),
in the words the rest of the API uses.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from storage.engine import LifecycleState

from ..core.bodies import Body, Query

__all__ = [
    "MAX_DESCRIPTION_CHARS",
    "MAX_NAME_CHARS",
    "MAX_QUERY_LIMIT",
    "AddMemberBody",
    "CreateDesignBody",
    "CreateProgramBody",
    "ItemsQuery",
]

MAX_NAME_CHARS = 200
MAX_DESCRIPTION_CHARS = 5000
MAX_QUERY_LIMIT = 200  # items per search

Name = Annotated[str, Meta(min_length=1, max_length=MAX_NAME_CHARS, description="Not blank.")]


class CreateProgramBody(Body, frozen=True):
    name: Name
    description: Annotated[str, Meta(max_length=MAX_DESCRIPTION_CHARS)] | None = None


class AddMemberBody(Body, frozen=True):
    user_id: Annotated[Name, Meta(description="The user to let in.")]
    role: Annotated[
        Literal["member", "viewer"], Meta(description="A viewer reads; a member works in the program too.")
    ] = "member"


class CreateDesignBody(Body, frozen=True):
    name: Name
    lifecycle_state: LifecycleState = LifecycleState.DRAFT


class ItemsQuery(Query, frozen=True):
    query: Annotated[str, Meta(description="Text to look for in numbers, names and descriptions.")] = ""
    limit: Annotated[
        int,
        Meta(
            ge=1, le=MAX_QUERY_LIMIT, description=f"At most this many (1 to {MAX_QUERY_LIMIT}; default 20)."
        ),
    ] = 20
