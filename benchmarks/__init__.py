"""atelier benchmarks: a load generator and side-by-side comparisons with Hocuspocus,
pycrdt-websocket and a bare aiohttp relay. Run ``python -m benchmarks --help``."""
