"""A visitor's chat transcript, e-mailed to them at their request (PROTOCOL 1.2)."""
