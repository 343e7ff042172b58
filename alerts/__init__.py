"""The alerts daemon: SLA transitions to Slack, Teams, e-mail and the rest, exactly once."""
