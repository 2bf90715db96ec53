"""The PLM routes: programs, their members and designs, items and ECOs (bearer token required).

A program is its owner's and readable by its members; another user's answers 403, an unknown
id 404 (``field`` names where the id was given).
"""

from __future__ import annotations

from actors.core.bodies import schema_components
from actors.engine.plm_bodies import AddMemberBody, CreateDesignBody, CreateProgramBody, ItemsQuery

from .common import Schema, body, idempotent, json_response, obj, operation, path_param, query_params, ref

__all__ = ["SCHEMAS", "TAG", "paths"]

TAG = "PLM"

_ID = path_param("id", "The record's id.")

_ITEM_FIELDS: dict[str, Schema] = {
    "id": {"type": "string"},
    "itemNumber": {"type": "string"},
    "itemType": {"enum": ["Part", "Requirement"]},
    "name": {"type": "string"},
    "description": {"type": "string"},
    "programId": {"type": "string"},
    "attributes": {"type": "object"},
    "createdAt": {"type": "string"},
}

SCHEMAS: dict[str, Schema] = {
    # The request bodies, from the types the routes decode.
    **schema_components([CreateProgramBody, AddMemberBody, CreateDesignBody]),
    "Program": obj(
        {
            "id": {"type": "string"},
            "ownerId": {"type": "string"},
            "name": {"type": "string"},
            "description": {"type": "string"},
            "createdAt": {"type": "string"},
        },
        "id",
        "ownerId",
        "name",
        "description",
        "createdAt",
    ),
    "ProgramMember": obj(
        {
            "programId": {"type": "string"},
            "userId": {"type": "string"},
            "role": {"enum": ["member", "viewer"]},
        },
        "programId",
        "userId",
        "role",
    ),
    "Design": obj(
        {
            "id": {"type": "string"},
            "programId": {"type": "string"},
            "name": {"type": "string"},
            "lifecycleState": ref("LifecycleState"),
            "createdAt": {"type": "string"},
            "updatedAt": {"type": "string"},
        },
        "id",
        "programId",
        "name",
        "lifecycleState",
        "createdAt",
        "updatedAt",
    ),
    "Item": obj(_ITEM_FIELDS, *_ITEM_FIELDS),
    "ItemWithRequirements": obj(
        {**_ITEM_FIELDS, "requirements": {"type": "array", "items": ref("Item")}},
        *_ITEM_FIELDS,
        "requirements",
    ),
    "BomLine": obj(
        {
            **_ITEM_FIELDS,
            "quantity": {"type": "number"},
            "position": {"type": "integer"},
            "children": {"type": "array", "items": ref("BomLine")},
        },
        *_ITEM_FIELDS,
        "quantity",
        "position",
        "children",
        description="An item in the design's BOM tree, with its quantity in its parent.",
    ),
    "Eco": obj(
        {
            "id": {"type": "string"},
            "ecoNumber": {"type": "string"},
            "designId": {"type": "string"},
            "sessionId": {"type": ["string", "null"]},
            "title": {"type": "string"},
            "changes": {"type": "object"},
            "createdAt": {"type": "string"},
        },
        "id",
        "ecoNumber",
        "designId",
        "sessionId",
        "title",
        "changes",
        "createdAt",
    ),
}


def _data(key: str, schema: Schema) -> Schema:
    return obj({"data": obj({key: schema}, key)}, "data")


def _list(key: str, item: str) -> Schema:
    return _data(key, {"type": "array", "items": ref(item)})


def paths() -> dict[str, Schema]:
    return {
        "/api/programs": {
            "post": idempotent(
                operation(
                    "createProgram",
                    TAG,
                    "Create a program",
                    {
                        "201": json_response(
                            "The new program, owned by the caller.", _data("program", ref("Program"))
                        )
                    },
                    request=body(ref("CreateProgramBody")),
                )
            ),
            "get": operation(
                "listPrograms",
                TAG,
                "List the programs the caller owns or is a member of",
                {"200": json_response("The programs.", _list("programs", "Program"))},
            ),
        },
        "/api/programs/{id}": {
            "parameters": [_ID],
            "get": operation(
                "getProgram",
                TAG,
                "Get a program",
                {"200": json_response("The program.", _data("program", ref("Program")))},
                errors=(400, 403, 404),
            ),
        },
        "/api/programs/{id}/members": {
            "parameters": [_ID],
            "post": idempotent(
                operation(
                    "addProgramMember",
                    TAG,
                    "Let another user work in the program (owner only)",
                    {"201": json_response("The membership.", _data("member", ref("ProgramMember")))},
                    request=body(ref("AddMemberBody")),
                    errors=(403, 404),
                )
            ),
        },
        "/api/programs/{id}/designs": {
            "parameters": [_ID],
            "post": idempotent(
                operation(
                    "createDesign",
                    TAG,
                    "Create a design in the program",
                    {"201": json_response("The new design.", _data("design", ref("Design")))},
                    request=body(ref("CreateDesignBody")),
                    errors=(403, 404),
                )
            ),
            "get": operation(
                "listDesigns",
                TAG,
                "List the program's designs",
                {"200": json_response("The designs.", _list("designs", "Design"))},
                errors=(400, 403, 404),
            ),
        },
        "/api/designs/{id}": {
            "parameters": [_ID],
            "get": operation(
                "getDesign",
                TAG,
                "Get a design",
                {"200": json_response("The design.", _data("design", ref("Design")))},
                errors=(400, 403, 404),
            ),
        },
        "/api/designs/{id}/bom": {
            "parameters": [_ID],
            "get": operation(
                "getDesignBom",
                TAG,
                "Get the design's BOM tree",
                {"200": json_response("Top-level lines with their children.", _list("bom", "BomLine"))},
                errors=(400, 403, 404),
            ),
        },
        "/api/items": {
            "get": operation(
                "searchItems",
                TAG,
                "Search the items the caller can read",
                {"200": json_response("Matching items.", _list("items", "Item"))},
                parameters=query_params(ItemsQuery),
                errors=(400,),
            ),
        },
        "/api/items/{id}": {
            "parameters": [_ID],
            "get": operation(
                "getItem",
                TAG,
                "Get an item with the requirements it satisfies",
                {"200": json_response("The item.", _data("item", ref("ItemWithRequirements")))},
                errors=(400, 403, 404),
            ),
        },
        "/api/ecos/{id}": {
            "parameters": [_ID],
            "get": operation(
                "getEco",
                TAG,
                "Get an engineering change order",
                {"200": json_response("The ECO.", _data("eco", ref("Eco")))},
                errors=(400, 403, 404),
            ),
        },
    }
