"""The session machinery every API shares (pure): realtime sync, awareness, fan-out, JSON values."""

from .errors import OpError as OpError
from .errors import ValidationError as ValidationError
