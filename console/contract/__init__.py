"""The service agreement as code: plans, opening hours and holidays, SLAs, billing."""
