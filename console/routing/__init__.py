"""Queue and assignment state (Redis), wait estimates, and the language a chat routes in."""
