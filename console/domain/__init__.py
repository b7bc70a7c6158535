"""The small public domain of Charla: its types, leads, contact details, errors and clock.

No I/O and no other Charla package: `bots/` and `integrations/` may import it."""
