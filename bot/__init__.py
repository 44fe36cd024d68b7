"""Process wiring: configuration, CLI, channel adapters, dispatcher, scheduler, web app."""
