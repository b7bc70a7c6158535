"""Supervision: the floor's live tiles for supervisors (pure arithmetic, and their push)."""
