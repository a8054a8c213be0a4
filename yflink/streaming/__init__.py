"""Stream operators, operator chains and the stream task that runs them."""
