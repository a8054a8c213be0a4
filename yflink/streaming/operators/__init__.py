"""Stream operators: the runtime side of the user's functions."""
