"""SMS in and out: service interface (Twilio, log), Persian messages, Twilio webhook."""
