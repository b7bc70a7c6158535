"""Queue and assignment: which agent gets which chat, and when."""
