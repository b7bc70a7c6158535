"""Tickets that get worked: the checks and rules of taking, noting, resolving, reopening."""
