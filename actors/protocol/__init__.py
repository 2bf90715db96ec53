"""Wire protocols: lib0 encoding, Hocuspocus frames and y-protocols sync messages."""

from .lib0 import DecodeError as DecodeError
from .lib0 import Decoder as Decoder
from .messages import AuthType as AuthType
from .messages import Frame as Frame
from .messages import MessageType as MessageType
from .messages import ProtocolError as ProtocolError
from .messages import SyncType as SyncType
from .messages import YMessageType as YMessageType
from .messages import decode_frame as decode_frame
from .messages import decode_sync as decode_sync
from .messages import encode_frame as encode_frame
