"""Secrets, encryption at rest, redaction, password hashing and agent tokens."""
