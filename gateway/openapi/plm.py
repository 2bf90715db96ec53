"""The PLM routes: programs, their members and designs, items and ECOs (bearer token required).

A program is its owner's and readable by its members; another user's answers 403, an unknown
id 404 (``field`` names where the id was given).
"""

from __future__ import annotations

from actors.core.bodies import schema_components
from actors.engine.plm_answers import BomNode, Design, Eco, Item, ItemWithRequirements, Program, ProgramMember
from actors.engine.plm_bodies import AddMemberBody, CreateDesignBody, CreateProgramBody, ItemsQuery

from .common import Schema, body, idempotent, json_response, obj, operation, path_param, query_params, ref

__all__ = ["SCHEMAS", "TAG", "paths"]

TAG = "PLM"

_ID = path_param("id", "The record's id.")

SCHEMAS: dict[str, Schema] = {
    # The request bodies, from the types the routes decode.
    **schema_components([CreateProgramBody, AddMemberBody, CreateDesignBody]),
    # The answers, from the types the routes write out.
    **schema_components([Program, ProgramMember, Design, Item, ItemWithRequirements, BomNode, Eco]),
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
                {"200": json_response("Top-level lines with their children.", _list("bom", "BomNode"))},
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
