"""Proactive engagement: invitation rules, the invitations they show, and CSAT ratings."""
