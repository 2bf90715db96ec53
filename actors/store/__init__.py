"""The store owner and how hosts and gateways reach it."""
