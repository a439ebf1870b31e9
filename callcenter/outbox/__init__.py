"""The Shahrbin outbox: its table and the writer every request change goes through."""
