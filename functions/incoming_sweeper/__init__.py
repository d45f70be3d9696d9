"""The incoming sweeper: sends files left in the landing bucket's `incoming/` back to the loader
once the reporting database is up (docs/loader.md, "Out of hours")."""
