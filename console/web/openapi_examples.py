"""Request examples of the OpenAPI document (console/web/openapi.py), by method and path.

Every operation with a request body has one; tests/test_openapi.py checks each against the
model its handler validates with (and the agreement's against the contract's parser too).
"""

from __future__ import annotations

from typing import Any

WEEKDAYS = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
HOURS = {**WEEKDAYS, "sat": [["09:00", "13:00"]]}
TEXTS = {"es": "Hola, ¿en qué le podemos ayudar?", "en": "Hi, how can we help?"}
AGENT = {
    "email": "maria@autosborinquen.example",
    "name": "María Rivera",
    "password": "cambiar-esta-clave",
    "languages": ["es", "en"],
    "max_chats": 4,
    "role": "agent",
}
RULE = {
    "name": "Inventario, 20 s",
    "enabled": True,
    "text": {"es": "¿Busca un auto? Le ayudamos.", "en": "Looking for a car? We can help."},
    "conditions": {"url_pattern": "/inventory*", "min_seconds_on_page": 20},
    "only_when_agents_available": True,
}
CANNED = {"shortcut": "/horario", "text": {"es": "Abrimos de 9 a 6.", "en": "Open 9 to 6."}}
WEBHOOK = {
    "url": "https://crm.autosborinquen.example/charla",
    "secret": "a-long-shared-secret-0123",
    "events": ["lead.qualified", "chat.closed"],
}

EXAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/admin/tenants"): {
        "name": "Autos Borinquen",
        "plan": "premium",
        "languages": ["es", "en"],
        "timezone": "America/Puerto_Rico",
        "hours": HOURS,
        "holidays": "PR",
        "allowed_origins": ["https://www.autosborinquen.example"],
        "bot_enabled": True,
    },
    ("PATCH", "/api/admin/tenants/{tenant_id}"): {
        "plan": "proactive",
        "allowed_origins": ["https://www.autosborinquen.example", "https://autosborinquen.example"],
        "settings": {"prechat_fields": ["name", "phone"], "invitation_cooldown_min": 60},
    },
    ("POST", "/api/admin/tenants/{tenant_id}/agents"): AGENT,
    ("PUT", "/api/admin/tenants/{tenant_id}/agreement"): {
        "effective_from": "2026-11-01",
        "answer_s": 30,
        "target_pct": "90.00",
        "max_abandon_pct": "10.00",
        "csat_min": "4.30",
        "csat_min_sample": 20,
        "credits": [
            {"below_pct": "90.00", "credit_pct": "5.00"},
            {"below_pct": "80.00", "credit_pct": "10.00"},
        ],
        "csat_credit_pct": "5.00",
        "cap_pct": "25.00",
    },
    ("PUT", "/api/admin/tenants/{tenant_id}/closures/{day}"): {"reason": "Huracán: cerrado"},
    ("POST", "/api/admin/operators"): {
        "email": "ops@provider.example",
        "name": "Luis Ortiz",
        "password": "a-long-operator-passphrase",
    },
    ("POST", "/api/operator/login"): {
        "email": "ops@provider.example",
        "password": "a-long-operator-passphrase",
        "otp": "123456",
    },
    ("POST", "/api/operator/mfa/confirm"): {"otp": "123456"},
    ("POST", "/api/admin/incidents"): {
        "title": "Lost laptop with an export",
        "description": "An export of one tenant's leads was on it.",
        "discovered_at": "2026-12-01T14:30:00Z",
        "affected": [{"tenant_id": "5f0c6a52-1d1e-4c4b-9a57-1f0e2f6a7b10", "visitors": 120}],
    },
    ("PATCH", "/api/admin/incidents/{incident_id}"): {
        "notice": {"to": "daco", "sent_at": "2026-12-03T10:00:00Z", "note": "by e-mail"},
    },
    ("POST", "/api/login"): {"email": "maria@autosborinquen.example", "password": "secreto123"},
    ("POST", "/api/mfa/confirm"): {"otp": "123456"},
    ("DELETE", "/api/mfa"): {"otp": "123456"},
    ("POST", "/api/agents"): AGENT,
    ("PATCH", "/api/agents/{agent_id}"): {
        "name": "María Rivera",
        "languages": ["es"],
        "max_chats": 5,
        "role": "supervisor",
    },
    ("PATCH", "/api/tenant"): {
        "timezone": "America/Puerto_Rico",
        "hours": HOURS,
        "holidays": "PR",
        "settings": {"invitation_cooldown_min": 30},
    },
    ("POST", "/api/import"): {
        "format": "charla-tenant-config",
        "version": 1,
        "hours": WEEKDAYS,
        "canned_responses": [CANNED],
        "invitation_rules": [RULE],
        "webhooks": [WEBHOOK],
    },
    ("POST", "/api/canned-responses"): CANNED,
    ("POST", "/api/invitation-rules"): RULE,
    ("PATCH", "/api/invitation-rules/{rule_id}"): {"enabled": False},
    ("POST", "/api/tickets"): {
        "text": "Quisiera una cita de servicio el sábado.",
        "language": "es",
        "name": "José Santiago",
        "phone": "787-555-0134",
    },
    ("PUT", "/api/integrations/salesforce"): {
        "login_url": "https://login.salesforce.com",
        "client_id": "3MVG9-connected-app-id",
        "client_secret": "connected-app-secret",
        "lead_source": "Charla",
    },
    ("PUT", "/api/integrations/notify"): {"to": "servicio@autosborinquen.example"},
    ("PATCH", "/api/tickets/{ticket_id}"): {
        "status": "resolved",
        "note": "Cita confirmada para el sábado a las 9.",
    },
    ("PUT", "/api/integrations/adf"): {
        "to": "leads@crm.autosborinquen.example",
        "vendor_name": "Autos Borinquen",
    },
    ("POST", "/api/webhooks"): WEBHOOK,
    ("PUT", "/api/retention"): {"transcripts_days": 365, "visitor_data_days": 730},
    ("PUT", "/api/legal-holds/{chat_id}"): {"reason": "Reclamación de garantía en curso"},
    ("POST", "/api/visitors/erase"): {"email": "jose@example.com"},
    ("PUT", "/api/security/mfa-roles"): {"mfa_roles": ["admin", "supervisor"]},
    ("PUT", "/api/privacy-notice"): {
        "notice": {
            "es": "Guardamos esta conversación para atenderle.",
            "en": "We keep this conversation to serve you.",
        }
    },
    # billing (docs/billing.md): money is a two-place decimal string, never a number
    ("PUT", "/api/admin/price-book"): {
        "effective_from": "2026-11-01",
        "plans": {
            "proactive": {
                "monthly_fee": "1500.00",
                "included_chats": 1000,
                "per_chat": "1.25",
                "per_lead": "12.00",
            }
        },
    },
    ("PUT", "/api/admin/ivu-rates"): {
        "effective_from": "2015-10-01",
        "state_pct": "10.50",
        "municipal_pct": "1.00",
        "b2b_pct": "4.00",
    },
    ("PUT", "/api/admin/tenants/{tenant_id}/billing-profile"): {
        "legal_name": "Autos Borinquen LLC",
        "address": "Ave. Kennedy 100, San Juan, PR 00920",
        "tax_status": "b2b",
        "certificate": {"number": "B2B-2291", "expires_on": "2030-06-30"},
        "terms_days": 15,
        "late_fee": {"grace_days": 10, "monthly_pct": "1.50"},
    },
    ("POST", "/api/admin/invoices/run"): {"period": "2026-11"},
    ("POST", "/api/admin/invoices/{invoice_id}/payments"): {
        "amount": "1903.20",
        "paid_on": "2026-12-15",
        "reference": "ACH 0042",
    },
    ("POST", "/api/admin/invoices/{invoice_id}/void"): {"reason": "Plan mal registrado"},
    ("POST", "/api/admin/invoices/{invoice_id}/dispute"): {"disputed": True},
}
