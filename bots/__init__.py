"""Charla's bots: text and context in, replies and structured results out (bots/base.py).

The built-in lead qualifier lives in bots/qualifier/, the tenant-editable script format in
bots/script.py, and the hub runs them through console/hub/bots.py. docs/bots.md explains.
"""
