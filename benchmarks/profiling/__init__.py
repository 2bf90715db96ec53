"""``python -m benchmarks profile``: where a local atelier serve spends its CPU under a scenario's load.

``options`` (sizes and bounds), ``stacks`` (py-spy's raw stacks → hot frames), ``report``
(``profile.md``) are pure; ``pyspy`` runs py-spy and ``command`` runs the whole profile.
"""
