"""The design engine's LLM layer: providers that stream drafting turns and the tools they call.

Typical use::

    provider = make_provider(LlmSettings.from_env(os.environ), search=plm_search)
    request = StageRequest(DraftingStage.REQUIREMENTS, load_prompt("requirements_drafting"), brief)
    async for event in provider.run(request):
        ...  # TextDelta | ToolCall | ToolResult | Clarification | Finished; LlmError on failure

``OpenAIProvider`` is not re-exported: it lives in ``.openai_provider``, imported only when a
key is set, so a process on the offline provider never loads the openai package (~24 MiB).
"""

from ...llm.errors import LlmError as LlmError
from ...llm.errors import LlmTimeout as LlmTimeout
from ...llm.errors import ToolArgumentError as ToolArgumentError
from ...llm.settings import LlmSettings as LlmSettings
from .events import Clarification as Clarification
from .events import Finished as Finished
from .events import LlmEvent as LlmEvent
from .events import TextDelta as TextDelta
from .events import ToolCall as ToolCall
from .events import ToolResult as ToolResult
from .factory import make_provider as make_provider
from .offline import OfflineProvider as OfflineProvider
from .prompts import load_prompt as load_prompt
from .provider import ClarificationAnswer as ClarificationAnswer
from .provider import LlmProvider as LlmProvider
from .provider import StageRequest as StageRequest
from .schema import DraftingStage as DraftingStage
from .schema import ToolLimits as ToolLimits
from .schema import tool_definitions as tool_definitions
from .tools import SearchFn as SearchFn
from .tools import ToolRegistry as ToolRegistry
from .tools import validate_tool_args as validate_tool_args

__all__ = [
    "Clarification",
    "ClarificationAnswer",
    "DraftingStage",
    "Finished",
    "LlmError",
    "LlmEvent",
    "LlmProvider",
    "LlmSettings",
    "LlmTimeout",
    "OfflineProvider",
    "SearchFn",
    "StageRequest",
    "TextDelta",
    "ToolArgumentError",
    "ToolCall",
    "ToolLimits",
    "ToolRegistry",
    "ToolResult",
    "load_prompt",
    "make_provider",
    "tool_definitions",
    "validate_tool_args",
]
