"""Bridge sessions for agents: versions and restore, undo of one change, signed webhooks."""
