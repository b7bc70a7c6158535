"""The HTTP API of PROTOCOL.md."""
