"""Charla: live chat that turns a client's website visitors into customers."""

__version__ = "0.1.0"
