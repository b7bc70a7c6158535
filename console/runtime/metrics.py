"""Prometheus metrics, in a registry of the app's own (no process-wide globals)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from console.runtime.eventloop import LAG_PROBE_S

# a chat's wait for an agent: the service agreements' answer targets are 20-60 s
QUEUE_WAIT_BUCKETS = (1.0, 5.0, 10.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 300.0, 600.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.connected_visitors = Gauge(
            "charla_connected_visitors", "Visitor connections on this process", registry=r
        )
        self.connected_agents = Gauge(
            "charla_connected_agents", "Agent connections on this process", registry=r
        )
        self.queue_length = Gauge(
            "charla_queue_length", "Chats waiting for an agent", ["tenant_id"], registry=r
        )
        self.chats_started = Counter(
            "charla_chats_started", "Chats started", ["tenant_id", "status"], registry=r
        )
        self.chats_assigned = Counter(
            "charla_chats_assigned", "Chats given to an agent", ["tenant_id"], registry=r
        )
        self.chats_closed = Counter(
            "charla_chats_closed", "Chats closed", ["tenant_id", "reason"], registry=r
        )
        self.chats_abandoned = Counter(
            "charla_chats_abandoned", "Queued chats whose visitor left", ["tenant_id"], registry=r
        )
        self.messages = Counter("charla_messages", "Messages stored", ["author"], registry=r)
        self.leads_saved = Counter(
            "charla_leads_saved", "Leads saved, by who captured them", ["source"], registry=r
        )
        self.delivery_latency = Histogram(
            "charla_message_delivery_seconds",
            "From receiving a message to handing it to its recipients (stored in between)",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=r,
        )
        self.gc_pauses = Histogram(
            "charla_gc_pause_seconds",
            "Garbage collections, by generation (2: full), and how long each held the process",
            ["generation"],
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=r,
        )
        self.loop_lag = Histogram(
            "charla_event_loop_lag_seconds",
            f"How late the event loop ran a timer, probed every {LAG_PROBE_S} s: a stall of "
            "every connection of this process",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=r,
        )
        self.event_loop = Gauge(
            "charla_event_loop", "The event loop this process runs on (1)", ["loop"], registry=r
        )
        self.rejected = Counter(
            "charla_rejected_events", "Events answered with an error", ["code"], registry=r
        )
        self.queue_wait = Histogram(
            "charla_chat_queue_wait_seconds",
            "How long an assigned chat waited in the queue (queued to assigned)",
            buckets=QUEUE_WAIT_BUCKETS,
            registry=r,
        )
        self.outbox = OutboxMetrics(r)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class OutboxMetrics:
    """The lead outbox worker's, by connector (`destination`: salesforce, adf, webhook...)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.leased = Counter(
            "charla_outbox_jobs_leased",
            "Deliveries this worker leased",
            ["destination"],
            registry=r,
        )
        self.delivered = Counter(
            "charla_outbox_jobs_delivered", "Deliveries completed", ["destination"], registry=r
        )
        self.failed = Counter(
            "charla_outbox_jobs_failed",
            "Failed attempts: final=true gave up (permanent, or out of attempts), false retries",
            ["destination", "final"],
            registry=r,
        )
        self.wait = Histogram(
            "charla_outbox_lease_wait_seconds",
            "How old a delivery was (since it was queued) when a worker leased it",
            ["destination"],
            buckets=(0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 14400.0),
            registry=r,
        )
        self.queue_age = Gauge(
            "charla_outbox_queue_age_seconds",
            "Age of the oldest pending delivery, by connector (0: none pending)",
            ["destination"],
            registry=r,
        )
        self.pending = Gauge(
            "charla_outbox_pending", "Pending deliveries, by connector", ["destination"], registry=r
        )
