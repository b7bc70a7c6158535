"""The Socket.IO layer: the `/visitor` and `/agent` namespaces of PROTOCOL.md, their rooms,
the engine beneath them, and fan-out across processes."""
