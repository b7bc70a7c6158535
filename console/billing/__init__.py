"""Invoices for the agreement's clause 6: metered from chats and leads, credited from the
closed SLA month, taxed with Puerto Rico's IVU, issued once per period, paid or overdue."""
