"""The data freshness check: on a schedule, alerts when a watched dataset has had no successful
load for longer than its window, counted in working hours of the hub's schedule."""
