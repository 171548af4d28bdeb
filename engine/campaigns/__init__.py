"""Campaigns: which buyers see a lead, how it is sold, and what is checked before selling."""
