"""Provider adapters: they talk to mailboxes and calendars and return observations."""
