"""The benchmark scenarios: fanout, rooms, saturate, sessions and rest-ops."""
