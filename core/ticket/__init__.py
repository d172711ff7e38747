"""A ticket's life: its vocabulary, events, commands, state machine, authority and fold."""
