"""The tenant's notification e-mail: tells the dealer's staff that a ticket arrived."""
