"""Channel-neutral conversation flows: one Inbound in, a list of Replies out."""
