"""The iot domain's setup: devices and telemetry, the rule engine and its timers."""

from __future__ import annotations

from anxin.core.context import AppContext
from anxin.core.domain import Command, Domain, Preparation, Subscription, Worker
from anxin.iot import commands, views
from anxin.iot.rules import flows


def _sweeper(context: AppContext) -> Worker:
    return flows.Sweeper(context)


def setup() -> Domain:
    return Domain(
        name="iot",
        hot_routers=[views.ingest_router],
        routers=[views.router],
        commands=[
            Command("ingest", commands.ingest_app),
            Command("iot", commands.iot_app),
            Command("device", commands.device_app),
        ],
        preparers=[Preparation("iot.telemetry.*", flows.prefetch)],
        subscriptions=[Subscription("iot.telemetry.*", flows.on_telemetry)],
        workers=[_sweeper],
    )
