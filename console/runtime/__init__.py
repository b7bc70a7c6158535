"""What a running process needs around the product: the event loop, GC tuning, logs,
metrics and the embedded Redis server."""
