"""The servers under test: how each is started, addressed, measured and stopped."""

from .servers import DEFAULT_TARGETS as DEFAULT_TARGETS
from .servers import TARGET_NAMES as TARGET_NAMES
from .servers import TARGETS as TARGETS
from .servers import RunningServer as RunningServer
from .servers import Target as Target
from .servers import TargetInfo as TargetInfo
from .servers import make_target as make_target
