"""Media of requests: recordings served with HTTP Range, signed expiring links to them
(and to any other media path), and the recordings' retention."""
