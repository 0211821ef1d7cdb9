"""The arbiter: every decision, pure and synchronous, on an injected clock."""
