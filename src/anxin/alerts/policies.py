"""The built-in escalation policies, as data. `service.sync_policies` writes them to the table."""

from __future__ import annotations

from typing import Any

DEFAULT_POLICY = "default"
WATCHDOG_POLICY = "alerts_watchdog"

CATALOGUE: tuple[dict[str, Any], ...] = (
    {
        "code": "homecare_fall",
        "name": "居家跌倒 Home-care fall",
        "receipt_timeout_s": 60,
        "escalate_on_undelivered": "any",
        "stop_on_clear": False,
        "repeat_last": 2,
        "steps": [
            {
                # At once: SMS to elder, every family member and the butler; a console alert;
                # the butler gets a call task. Nobody acknowledges in 120 s → next step.
                "wait_s": 120,
                "notify": [
                    {"roles": ["elder", "family", "butler"], "channels": ["sms"]},
                    {"roles": ["butler"], "channels": ["console"]},
                    {"roles": ["butler"], "channels": ["console"], "purpose": "call_task"},
                ],
            },
            {
                "wait_s": 120,
                "notify": [{"roles": ["emergency_contact"], "channels": ["voice"]}],
            },
            {
                "wait_s": 300,
                "notify": [
                    {"roles": ["team_lead"], "channels": ["voice", "sms", "console"]},
                ],
            },
        ],
        # Another fall after the butler acknowledged the first (on the way, or already there
        # and gone): the butler hears of it again at once, by SMS and on the console — at most
        # once a minute, since a radar may report the same fall several times.
        "on_repeat": {
            "min_interval_s": 60,
            "notify": [{"roles": ["butler"], "channels": ["sms", "console"]}],
        },
    },
    {
        "code": "homecare_alert",
        "name": "居家提醒 Home-care alert (not urgent)",
        "receipt_timeout_s": 300,
        "escalate_on_undelivered": "all",
        "stop_on_clear": True,
        "steps": [
            {
                "wait_s": 600,
                "notify": [
                    {"roles": ["butler"], "channels": ["console", "sms"]},
                    {"roles": ["family"], "channels": ["sms", "push"]},
                ],
            },
            {"wait_s": 900, "notify": [{"roles": ["team_lead"], "channels": ["sms", "console"]}]},
        ],
    },
    {
        # Pledged stock at risk (issue 7): the lending bank's supply-chain-finance officers
        # at once by SMS and console; unacknowledged after 5 minutes, a voice call to them
        # and the bank's risk officers.
        "code": "collateral_breach",
        "name": "质押物风险 Collateral breach",
        "receipt_timeout_s": 120,
        "escalate_on_undelivered": "all",
        "stop_on_clear": False,
        "steps": [
            {
                "wait_s": 300,
                "notify": [{"roles": ["bank_officer"], "channels": ["sms", "console"]}],
            },
            {
                "wait_s": 600,
                "notify": [
                    {"roles": ["bank_officer"], "channels": ["voice"]},
                    {"roles": ["risk_officer"], "channels": ["sms", "console"]},
                ],
            },
        ],
    },
    {
        # Small-business loans (issue 15): an instalment due soon or overdue. The borrower by
        # SMS and in the app, the loan officer on the console; still open a day later, the
        # officer and the risk officer by SMS.
        "code": "lending_reminder",
        "name": "还款提醒 Repayment reminder",
        "receipt_timeout_s": 600,
        "escalate_on_undelivered": "none",
        "stop_on_clear": True,
        "steps": [
            {
                "wait_s": 86400,
                "notify": [
                    {"roles": ["borrower"], "channels": ["sms", "console"]},
                    {"roles": ["bank_officer"], "channels": ["console"]},
                ],
            },
            {
                "wait_s": 86400,
                "notify": [{"roles": ["bank_officer", "risk_officer"], "channels": ["sms"]}],
            },
        ],
    },
    {
        # The loan's callback (回访): a call task for the loan officer; not done within a day,
        # the risk officer hears of it.
        "code": "lending_callback",
        "name": "贷前回访 Loan callback",
        "receipt_timeout_s": 600,
        "escalate_on_undelivered": "none",
        "stop_on_clear": True,
        "steps": [
            {
                "wait_s": 86400,
                "notify": [
                    {"roles": ["bank_officer"], "channels": ["console"], "purpose": "call_task"},
                ],
            },
            {
                "wait_s": 86400,
                "notify": [{"roles": ["risk_officer"], "channels": ["console", "sms"]}],
            },
        ],
    },
    {
        "code": DEFAULT_POLICY,
        "name": "默认 Default: everyone at once",
        "receipt_timeout_s": 120,
        "escalate_on_undelivered": "none",
        "stop_on_clear": True,
        "steps": [
            {
                "wait_s": 0,
                "notify": [
                    {
                        "roles": [
                            "elder",
                            "family",
                            "butler",
                            "emergency_contact",
                            "team_lead",
                            "bank_officer",
                            "operator",
                            "admin",
                        ],
                        "channels": ["sms", "console", "webhook"],
                    }
                ],
            }
        ],
    },
    {
        "code": WATCHDOG_POLICY,
        "name": "告警引擎看门狗 Escalation overdue",
        "receipt_timeout_s": 120,
        "escalate_on_undelivered": "none",
        "stop_on_clear": True,
        "steps": [
            {
                "wait_s": 300,
                "notify": [
                    {"roles": ["butler", "team_lead", "admin"], "channels": ["console", "sms"]}
                ],
            }
        ],
    },
)
