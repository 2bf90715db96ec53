"""Direct links between the cluster's processes: the data plane (Ray stays the control plane)."""

from .codec import CodecError as CodecError
from .codec import Kind as Kind
from .link import Link as Link
from .link import LinkClosed as LinkClosed
from .link import RemoteFailure as RemoteFailure
from .server import LinkAddress as LinkAddress
from .server import LinkServer as LinkServer
from .server import LinkSettings as LinkSettings
from .server import dial as dial
