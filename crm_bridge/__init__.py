"""The bridge to Shahrbin: outbox out (at-least-once), signed status webhook in."""
