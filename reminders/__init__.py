"""Reminder rules: duties, the 五必访 calendar and the sweeps that fill the outbox."""
