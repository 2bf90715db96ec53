"""WebSocket plumbing: Hocuspocus on /ws, plain y-websocket on /ws/{session_id}."""
