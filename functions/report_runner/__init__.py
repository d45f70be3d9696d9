"""The report runner: scheduled reports from the reporting database, delivered by email link."""
