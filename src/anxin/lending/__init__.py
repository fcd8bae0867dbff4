"""Small-business lending (issue 15): the pure cash-flow core.

Everything here is I/O-free maths on `decimal.Decimal` money: day counts (`daycount`),
dated cash flows and repayment schedules (`schedule`), payment allocation (`allocation`),
IRR/XIRR and the two disclosed annualised rates (`rates`), and the identifiers a loan
application carries (`identifiers`). Leasing (issue 16) builds its rent schedules on the same
`schedule` engine. docs/lending.md explains the maths and cites its sources.
"""
