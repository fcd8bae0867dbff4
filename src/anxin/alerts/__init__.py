"""Alarms, escalation policies and reliable notifications (the `alerts` domain).

Other domains call `anxin.alerts.service` (`raise_alarm`, `clear_alarm`, `acknowledge`,
`resolve`); the engine loop is `anxin.alerts.flows.run_due`, ticked by `anxin.alerts.worker`.
"""
