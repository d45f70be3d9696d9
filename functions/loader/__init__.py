"""Loads files from the landing bucket into their staging tables, exactly once."""
