"""Lead and event delivery behind one interface (`integrations.base.Connector`): Salesforce,
ADF/XML e-mail and signed webhooks, fed by the durable outbox (`console.outbox.worker`)."""
