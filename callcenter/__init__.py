"""The 137 contact-center telephony integration layer."""
