"""The store: SQL is the source of truth for tenants, agents, visitors, chats and messages."""
