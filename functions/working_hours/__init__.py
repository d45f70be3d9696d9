"""Working time: the schedules compute runs on (periods, timezone, public holidays), shared by
the scheduler, the loader, the incoming sweeper, the freshness check, the stack config and the
cost estimator."""
