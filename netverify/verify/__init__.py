"""Stage 5: questions asked of the connectivity: why a flow is allowed, and does isolation hold."""
