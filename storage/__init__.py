"""Durable stores (SQLite, Postgres) and the gateway bus (in-process, Redis)."""

from .base import Store as Store
from .base import StoreError as StoreError
from .bus import Bus as Bus
from .bus import InProcessBus as InProcessBus
from .factory import make_bus as make_bus
from .factory import make_store as make_store
from .group_commit import GroupCommitter as GroupCommitter
from .records import Append as Append
from .records import LoadedDoc as LoadedDoc
from .records import SessionRecord as SessionRecord
from .records import VersionRecord as VersionRecord
from .records import utc_now_iso as utc_now_iso
from .settings import StorageSettings as StorageSettings
