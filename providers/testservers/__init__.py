"""Real servers started on loopback for tests and scenario runs (Radicale, ...)."""
