"""Channel-neutral core shared by handlers, reminders and bot: message types, clock, texts, policy."""
