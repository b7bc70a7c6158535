"""The Socket.IO hub: the `/visitor` and `/agent` namespaces of PROTOCOL.md."""
