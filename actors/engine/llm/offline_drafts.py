"""The offline provider's drafting logic: deterministic drafts from the brief's keywords.

Pure: text in, tool arguments out, no randomness and no clock, so the same request always gives
the same drafts (tests and demos rely on it). The drafts go through the same validation as a
model's, so they are exactly as trustworthy as the schema.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .schema import DraftingStage

__all__ = [
    "STANDARD_PART_QUERY",
    "clarification_for",
    "draft_bom",
    "draft_requirements",
    "matched_keywords",
    "subject_of",
    "wants_clarification",
]

MIN_REQUIREMENTS = 4
MAX_REQUIREMENTS = 6
STANDARD_PART_QUERY = "M6 socket head cap screw"

_WORD = re.compile(r"[a-z0-9]+")
_CLARIFY = re.compile(r"\bclarify\b", re.IGNORECASE)
_LEAD = re.compile(
    r"^\s*(?:please\s+)?"
    r"(?:(?:design|build|create|make|develop|draft|engineer|i\s+need|we\s+need)\s+(?:me\s+|us\s+)?)?"
    r"(?:(?:a|an|the|some)\s+)?",
    re.IGNORECASE,
)
_CUT = re.compile(r"[.,;:!?(]|\s(?:for|that|which|with|to|so)\s", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Template:
    keywords: frozenset[str]
    name: str
    description: str
    requirement_type: str
    priority: str
    verification: str
    rationale: str


def _t(
    keywords: str, name: str, description: str, kind: str, priority: str, method: str, why: str
) -> _Template:
    return _Template(frozenset(keywords.split()), name, description, kind, priority, method, why)


# Checked in this order; `{subject}` is the product named in the brief.
_TEMPLATES: tuple[_Template, ...] = (
    _t(
        "child children kid kids toy toys ages safe safety rider baby",
        "User safety",
        "The {subject} shall present no accessible sharp edges, pinch points or exposed "
        "live parts and shall meet the applicable product safety standard.",
        "Constraint",
        "critical",
        "Inspection",
        "Users, possibly children, operate the product directly.",
    ),
    _t(
        "speed fast kart vehicle bike bicycle scooter drone car cart velocity",
        "Maximum speed",
        "The {subject} shall not exceed a top speed of 15 km/h on level ground.",
        "Performance",
        "high",
        "Test",
        "Speed is the main safety and performance driver of a vehicle.",
    ),
    _t(
        "battery electric cordless rechargeable powered runtime motor",
        "Operating endurance",
        "The {subject} shall operate for at least 60 minutes on one full charge.",
        "Performance",
        "high",
        "Test",
        "Users expect a full session of use between charges.",
    ),
    _t(
        "load payload heavy strong support shelf carry carrying rider lift",
        "Load capacity",
        "The {subject} shall carry a static load of 50 kg with a safety factor of 2 "
        "without permanent deformation.",
        "Performance",
        "high",
        "Analysis",
        "The structure must not yield under the intended use.",
    ),
    _t(
        "outdoor outdoors outside water waterproof rain weather garden marine",
        "Environmental protection",
        "The {subject} shall be protected to IP54 and operate between -10 °C and 40 °C.",
        "Constraint",
        "high",
        "Test",
        "The product is used outdoors.",
    ),
    _t(
        "light lighter lightweight portable handheld weight mass pocket travel",
        "Mass budget",
        "The {subject} shall have a total mass of no more than 5 kg.",
        "Constraint",
        "medium",
        "Inspection",
        "Low mass keeps the product easy to carry and handle.",
    ),
    _t(
        "bluetooth wifi app smart connected remote iot wireless",
        "Wireless connectivity",
        "The {subject} shall connect to a smartphone app over Bluetooth Low Energy 5.0.",
        "Interface",
        "medium",
        "Demonstration",
        "Remote control and status are part of the brief.",
    ),
    _t(
        "charge charging usb plug mains",
        "Charging interface",
        "The {subject} shall charge from a USB-C Power Delivery source of up to 100 W.",
        "Interface",
        "medium",
        "Inspection",
        "A standard charger avoids a proprietary power supply.",
    ),
    _t(
        "mount mounting bracket attach wall clamp rail fixture",
        "Mounting interface",
        "The {subject} shall attach with four M6 fasteners on a 100 mm x 100 mm pattern.",
        "Interface",
        "medium",
        "Inspection",
        "A standard bolt pattern fits existing fixtures.",
    ),
    _t(
        "cost cheap affordable budget price inexpensive",
        "Unit cost",
        "The {subject} shall have a bill-of-materials cost below 150 EUR at 1,000 units per year.",
        "Constraint",
        "medium",
        "Analysis",
        "The brief asks for an affordable product.",
    ),
    _t(
        "quiet noise silent noisy",
        "Noise emission",
        "The {subject} shall emit no more than 55 dB(A) at 1 m in operation.",
        "Performance",
        "medium",
        "Test",
        "The brief asks for quiet operation.",
    ),
    _t(
        "heat hot thermal temperature cooling cool",
        "Thermal limits",
        "Touchable surfaces of the {subject} shall stay below 45 °C in operation.",
        "Performance",
        "high",
        "Test",
        "Hot surfaces are a burn hazard and shorten component life.",
    ),
)

# Used, in order, when the brief names too few concerns to reach the minimum.
_FALLBACKS: tuple[_Template, ...] = (
    _t(
        "",
        "Manufacturability",
        "All manufactured parts of the {subject} shall be producible by CNC machining, "
        "sheet-metal forming or 3D printing.",
        "Constraint",
        "medium",
        "Inspection",
        "Standard processes keep prototypes fast and cheap.",
    ),
    _t(
        "",
        "User controls",
        "The {subject} shall provide controls operable by the intended user without tools.",
        "Interface",
        "medium",
        "Demonstration",
        "The user must be able to operate the product unaided.",
    ),
    _t(
        "",
        "Service life",
        "The {subject} shall reach a service life of at least 5 years under normal use.",
        "Constraint",
        "medium",
        "Analysis",
        "A durable product lowers total cost of ownership.",
    ),
)

_SMALL = frozenset(["small", "compact", "mini", "miniature", "handheld", "desk", "desktop", "pocket", "tiny"])
_LARGE = frozenset(
    ["large", "big", "vehicle", "kart", "car", "bike", "bicycle", "cart", "furniture", "table", "trailer"]
)
_ELECTRIC = frozenset(
    ["electric", "battery", "motor", "powered", "motorised", "motorized", "robot", "drone", "cordless"]
)


def _words(*texts: str) -> set[str]:
    return {word for text in texts for word in _WORD.findall(text.lower())}


def subject_of(description: str) -> str:
    """The product named by the brief ('Design an electric go-kart for ...' -> 'electric go-kart')."""
    text = _LEAD.sub("", description.strip(), count=1)
    text = _CUT.split(text, maxsplit=1)[0].strip()
    words = text.split()[:6]
    return " ".join(words) if words else "product"


def matched_keywords(description: str) -> list[str]:
    """The template keywords present in the brief, in template order (for the narration)."""
    words = _words(description)
    found: list[str] = []
    for template in _TEMPLATES:
        found.extend(sorted(template.keywords & words))
    return list(dict.fromkeys(found))


def wants_clarification(texts: Iterable[str]) -> bool:
    """The offline trigger for the clarification round trip: the word 'clarify' anywhere."""
    return any(_CLARIFY.search(text) for text in texts)


def clarification_for(stage: DraftingStage) -> tuple[str, list[str]]:
    """The one question the offline provider asks in `stage`, with suggested answers."""
    if stage is DraftingStage.REQUIREMENTS:
        return "Where will the product mainly be used?", ["Indoors", "Outdoors", "Both indoors and outdoors"]
    return "Should standard parts be bought in or made in-house?", ["Buy standard parts", "Make in-house"]


def _user_note(notes: Sequence[str]) -> str:
    cleaned = [" ".join(note.split()) for note in notes if note.strip()]
    return f" User input considered: {'; '.join(cleaned)}." if cleaned else ""


def draft_requirements(
    description: str, *, notes: Sequence[str] = (), answers: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """4-6 requirements: the primary function, then the concerns the text names, then fallbacks.

    `notes` (feedback, user messages) and `answers` (clarification answers) add keywords, and
    concerns the user raised come first; notes are echoed in the first rationale.
    """
    subject = subject_of(description)
    user_words = _words(*notes, *answers)
    brief_words = _words(description)
    asked = [t for t in _TEMPLATES if t.keywords & user_words]
    named = [t for t in _TEMPLATES if t.keywords & brief_words and t not in asked]
    chosen: list[tuple[_Template, float]] = [(t, 0.9) for t in asked] + [(t, 0.8) for t in named]
    chosen = chosen[: MAX_REQUIREMENTS - 1]
    for fallback in _FALLBACKS:
        if len(chosen) >= MIN_REQUIREMENTS - 1:
            break
        chosen.append((fallback, 0.6))
    brief = " ".join(description.split())[:300] or subject
    clarified = "".join(f" Clarified: {answer.strip()}." for answer in answers if answer.strip())
    drafts: list[dict[str, Any]] = [
        {
            "tempId": "req-1",
            "name": "Primary function",
            "description": f'The {subject} shall fulfil the design brief: "{brief}".',
            "requirementType": "Functional",
            "priority": "critical",
            "verificationMethod": "Demonstration",
            "rationale": f"Captures the purpose stated in the description.{clarified}{_user_note(notes)}",
            "confidence": 0.95,
            "source": "ai",
        }
    ]
    for index, (template, confidence) in enumerate(chosen, start=2):
        drafts.append(
            {
                "tempId": f"req-{index}",
                "name": template.name,
                "description": template.description.format(subject=subject),
                "requirementType": template.requirement_type,
                "priority": template.priority,
                "verificationMethod": template.verification,
                "rationale": template.rationale,
                "confidence": confidence,
                "source": "ai",
            }
        )
    return drafts


def _scale(words: set[str]) -> float:
    if words & _LARGE:
        return 2.5
    if words & _SMALL:
        return 0.5
    return 1.0


def _mm(value: float) -> int:
    return max(1, round(value))


def _node(
    temp_id: str,
    name: str,
    part_type: str,
    rationale: str,
    confidence: float,
    *,
    quantity: int = 1,
    material: str | None = None,
    parameters: dict[str, Any] | None = None,
    children: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    node: dict[str, Any] = {
        "tempId": temp_id,
        "name": name,
        "isNew": True,
        "quantity": quantity,
        "children": children or [],
        "requirementTempIds": [],
        "partType": part_type,
    }
    if material is not None:
        node["material"] = material
    if parameters is not None:
        node["parameters"] = parameters
    node["rationale"] = rationale
    node["confidence"] = confidence
    return node


def _fastener(reuse: Mapping[str, Any] | None) -> dict[str, Any]:
    node = _node(
        "prt-3",
        "M6 x 16 socket head cap screw (ISO 4762)",
        "Purchase",
        "Standard fastener joining the frame parts.",
        0.9,
        quantity=8,
    )
    item_id = reuse.get("id") if reuse is not None else None
    if reuse is not None and isinstance(item_id, str) and item_id:
        node["isNew"] = False
        node["existingItemId"] = item_id
        node["name"] = str(reuse.get("name") or node["name"])
        number = reuse.get("itemNumber")
        node["rationale"] = f"Reuses existing item {number or item_id} instead of a new part number."
    return node


def draft_bom(
    description: str,
    requirements: Sequence[Mapping[str, Any]],
    *,
    reuse: Mapping[str, Any] | None = None,
    notes: Sequence[str] = (),
) -> dict[str, Any]:
    """`propose_bom` arguments: a root assembly with a frame sub-assembly, a turned part and
    purchased parts; every requirement is linked to the node that answers its type.

    `reuse` is the first `search_items` hit for the standard fastener, reused when present.
    """
    subject = subject_of(description)
    words = _words(description, *notes)
    s = _scale(words)
    electric = bool(words & _ELECTRIC)
    base = _node(
        "prt-1",
        "Base plate",
        "Manufacture",
        "Carries all loads and locates the other parts.",
        0.8,
        material="6061-T6 aluminium",
        parameters={
            "shape": "plate",
            "length_mm": _mm(120 * s),
            "width_mm": _mm(80 * s),
            "thickness_mm": 8 if s > 1 else 6,
            "holes": 4,
            "hole_diameter_mm": 6,
        },
    )
    bracket = _node(
        "prt-2",
        "Side bracket",
        "Manufacture",
        "Stiffens the frame and offers the mounting points.",
        0.75,
        quantity=2,
        material="S235 steel, zinc plated",
        parameters={
            "shape": "box",
            "length_mm": _mm(60 * s),
            "width_mm": _mm(40 * s),
            "height_mm": _mm(30 * s),
            "wall_mm": 3,
        },
    )
    frame = _node(
        "asm-2",
        "Frame assembly",
        "Manufacture",
        "Structural sub-assembly of plate, brackets and fasteners.",
        0.85,
        children=[base, bracket, _fastener(reuse)],
    )
    shaft = _node(
        "prt-4",
        "Drive shaft" if electric else "Support column",
        "Manufacture",
        "Turned part transmitting the main load path.",
        0.75,
        material="304 stainless steel",
        parameters={"shape": "cylinder", "diameter_mm": _mm(20 * s), "height_mm": _mm(150 * s)},
    )
    children = [frame, shaft]
    if electric:
        drive = _node(
            "prt-5", "Brushless DC motor, 24 V", "Purchase", "Bought-in drive sized for the duty cycle.", 0.7
        )
        battery = _node(
            "prt-6",
            "Battery pack, 24 V 10 Ah Li-ion",
            "Purchase",
            "Bought-in energy storage with integrated protection circuit.",
            0.7,
        )
        children += [drive, battery]
    else:
        drive = _node(
            "prt-5",
            "Ball bearing 6001-2RS",
            "Purchase",
            "Standard sealed bearing supporting the column.",
            0.8,
            quantity=2,
        )
        children.append(drive)
    root = _node(
        "asm-1",
        f"{subject[:1].upper()}{subject[1:]} assembly",
        "Manufacture",
        f"Top-level assembly of the {subject}.{_user_note(notes)}",
        1.0,
        children=children,
    )
    target = {"Functional": root, "Performance": drive, "Constraint": frame, "Interface": bracket}
    for requirement in requirements:
        temp_id = requirement.get("tempId")
        if isinstance(temp_id, str) and temp_id:
            node = target.get(str(requirement.get("requirementType")), root)
            if temp_id not in node["requirementTempIds"]:
                node["requirementTempIds"].append(temp_id)
    return {"rootAssembly": root}
