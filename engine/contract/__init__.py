"""Checking a buyer file against the buyer's published spec: static rules and generated leads."""
