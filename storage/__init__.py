"""Durable stores (SQLite, Postgres) and the gateway bus (in-process, Redis)."""

from .bridge.base import Store as Store
from .bridge.group_commit import GroupCommitter as GroupCommitter
from .bridge.records import Append as Append
from .bridge.records import LoadedDoc as LoadedDoc
from .bridge.records import SessionRecord as SessionRecord
from .bridge.records import VersionRecord as VersionRecord
from .bus import Bus as Bus
from .bus import InProcessBus as InProcessBus
from .clock import utc_now_iso as utc_now_iso
from .errors import StoreError as StoreError
from .factory import make_bus as make_bus
from .factory import make_store as make_store
from .settings import StorageSettings as StorageSettings
