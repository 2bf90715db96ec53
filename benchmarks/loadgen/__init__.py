"""The load generator: editor clients, REST agents, worker processes and their orchestration."""
