"""Stage 3, watches and events: the table of standing instructions, which events reach them, and when
they end."""
