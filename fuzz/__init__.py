"""Hostile-input generators and oracles shared by ``tests/robust`` (seconds) and ``fuzz/campaign.py`` (long)."""
