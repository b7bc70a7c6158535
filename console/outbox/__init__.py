"""The durable outbox's delivery side: the worker that leases deliveries from the store and
runs the connectors of `integrations/`, its retry policy, and the hub's wake-up call."""
