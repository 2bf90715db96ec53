"""The servers atelier is compared with (the Hocuspocus peer is a Node package in ``hocuspocus/``)."""
