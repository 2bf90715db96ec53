"""The benchmark scenarios: fanout, saturate, sessions and rest-ops."""
