"""The run side: the shared HTTP client, auth flows, and the executor of one plan for one lead."""
