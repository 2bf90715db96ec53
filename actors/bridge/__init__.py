"""The Bridge: one Yjs document per session (spec, theme, theme CSS, meta) that browsers and
agents edit together, with spec ops, presence, versions and restore, undo and signed webhooks.

Pure cores: ``layout`` (how the document is stored), ``spec_ops``/``spec_check``, ``theme``,
``presence``, ``touched``, ``session``, ``versions``, ``undo``, ``restore``, ``diff``; inside
a host: ``live`` (durability and subscribers) and ``agents`` (versions, undo, webhooks).
"""

from .layout import empty_spec as empty_spec
from .layout import init_session as init_session
from .layout import read_state as read_state
from .spec_ops import OpsResult as OpsResult
from .spec_ops import apply_ops as apply_ops
from .spec_ops import validate_spec as validate_spec
from .theme import DEFAULT_THEME as DEFAULT_THEME
from .theme import ThemeParams as ThemeParams
from .theme import parse_theme as parse_theme
from .theme import theme_css as theme_css
