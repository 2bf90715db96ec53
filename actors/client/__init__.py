"""The typed session client: the only thing the gateway imports from the session layer."""

from ..core.events import Delivery as Delivery
from ..core.events import StreamEnd as StreamEnd
from ..core.sync import Control as Control
from ..core.sync import Inbound as Inbound
from ..core.sync import Scope as Scope
from .base import RealtimeStream as RealtimeStream
from .base import SessionClient as SessionClient
from .base import StageEventItem as StageEventItem
from .base import StageEventStream as StageEventStream
from .base import StreamItem as StreamItem
from .cluster import ClusterSessionClient as ClusterSessionClient
from .local import LocalSessionClient as LocalSessionClient
from .stats import HostStats as HostStats
from .stats import LayerStats as LayerStats
from .stats import StoreStats as StoreStats
from .warmth import Warmth as Warmth
