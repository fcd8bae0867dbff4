"""Labels in Chinese and English; pages pick one by the session's language.

`LABELS` are the console shell's and the shared pages'; each domain adds its own
(`Domain.labels`) and `Catalog` merges them once per application.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

LANGUAGES = ("zh", "en")

LABELS: dict[str, tuple[str, str]] = {
    "app_name": ("安心", "anxin"),
    "tagline": ("物联网守护服务平台", "Protection services on live data"),
    "login": ("登录", "Log in"),
    "logout": ("退出", "Log out"),
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
    "login_failed": ("用户名或密码错误", "Wrong username or password"),
    "welcome": ("欢迎", "Welcome"),
    "role": ("角色", "Role"),
    "elders": ("长者", "Elders"),
    "no_elders": ("没有可查看的长者", "No elders to show"),
    "household": ("家庭", "Household"),
    "mode": ("模式", "Mode"),
    "devices": ("设备", "Devices"),
    "online": ("在线", "Online"),
    "offline": ("离线", "Offline"),
    "last_seen": ("最近上报", "Last seen"),
    "latest": ("最新读数", "Latest readings"),
    "conditions": ("慢病", "Conditions"),
    "butler": ("管家", "Butler"),
    "language": ("English", "中文"),
    "api_docs": ("接口文档", "API docs"),
    "navigation": ("导航", "Navigation"),
    # roles, as `t('role_' ~ role)` shows them
    "role_admin": ("管理员", "Administrator"),
    "role_butler": ("管家", "Butler"),
    "role_family": ("家属", "Family"),
    "role_elder": ("长者", "Elder"),
    "role_doctor": ("医生", "Doctor"),
    "role_provider": ("服务商", "Provider"),
    "role_ltc_admin": ("长护险经办", "LTC administrator"),
    "role_supervisor": ("主管", "Supervisor"),
    "role_actuary": ("精算师", "Actuary"),
    "role_agent": ("代理人", "Agent"),
    "role_loan_officer": ("信贷员", "Loan officer"),
    "role_risk_officer": ("风控专员", "Risk officer"),
    "role_scf_officer": ("供应链金融专员", "Supply-chain finance officer"),
    "role_warehouse_operator": ("仓库操作员", "Warehouse operator"),
    "role_lessor": ("出租人", "Lessor"),
    "role_farmer": ("农户", "Farmer"),
    "role_claims_handler": ("理赔员", "Claims handler"),
    "role_buyer": ("采购方", "Buyer"),
    "role_lessee": ("承租人", "Lessee"),
    "never": ("从未", "never"),
    "alarm_queue": ("告警队列", "Alarm queue"),
    "alarm": ("告警", "Alarm"),
    "alarms": ("告警", "Alarms"),
    "no_alarms": ("暂无告警", "No alarms"),
    "severity": ("级别", "Severity"),
    "state": ("状态", "State"),
    "raised_at": ("发生时间", "Raised"),
    "count": ("次数", "Count"),
    "elder": ("长者", "Elder"),
    "actions": ("操作", "Actions"),
    "acknowledge": ("确认", "Acknowledge"),
    "resolve": ("解除", "Resolve"),
    "note": ("备注", "Note"),
    "outbox": ("发件箱", "Outbox"),
    "channel": ("渠道", "Channel"),
    "recipient": ("接收人", "Recipient"),
    "status": ("状态", "Status"),
    "history": ("处理记录", "History"),
    "notifications": ("通知", "Notifications"),
    "call_log": ("通话记录", "Call log"),
    "family_page": ("家属页面", "Family page"),
    "escalation": ("升级", "Escalation"),
    "step": ("步骤", "Step"),
    "who": ("操作人", "Who"),
    "what": ("事件", "What"),
    "when": ("时间", "When"),
    "family": ("家属", "Family"),
    "emergency_contacts": ("紧急联系人", "Emergency contacts"),
    "medications": ("用药", "Medication"),
    "live": ("实时", "live"),
    "error": ("出错了", "Something went wrong"),
    # what an error page says, by the error's code; the service's own words are the detail
    "error_error": ("出错了", "Something went wrong"),
    "error_invalid_input": ("输入有误", "The input is not valid"),
    "error_not_found": ("找不到该页面或记录", "Not found"),
    "error_conflict": ("操作与当前状态冲突", "This conflicts with the current state"),
    "error_rule_violation": ("不符合业务规则", "This breaks a business rule"),
    "error_permission_denied": ("您无权打开此页面", "You may not open this page"),
    "error_unauthenticated": ("请先登录", "Please log in"),
    "error_payload_too_large": ("内容过大", "Too large"),
    "error_rate_limited": ("请求过于频繁", "Too many requests"),
    "error_unsupported_media_type": ("格式不支持", "Unsupported format"),
    "error_ledger_integrity": ("账本校验失败", "The ledger failed its integrity check"),
    "error_detail": ("详细信息", "Details"),
    # what is wrong with a form's field (`console.field_reasons`): by pydantic's error type,
    # with its context ({gt}, {max_length}, …), or by a service's own code
    "field_invalid": ("此项填写有误", "Not valid"),
    "reason_missing": ("此项必填", "Required"),
    "reason_decimal_parsing": ("请填写数字", "Enter a number"),
    "reason_float_parsing": ("请填写数字", "Enter a number"),
    "reason_int_parsing": ("请填写整数", "Enter a whole number"),
    "reason_greater_than": ("须大于 {gt}", "Must be greater than {gt}"),
    "reason_greater_than_equal": ("不能小于 {ge}", "Must be at least {ge}"),
    "reason_less_than": ("须小于 {lt}", "Must be less than {lt}"),
    "reason_less_than_equal": ("不能大于 {le}", "Must be at most {le}"),
    "reason_decimal_max_places": (
        "最多 {decimal_places} 位小数",
        "At most {decimal_places} decimal places",
    ),
    "reason_decimal_max_digits": ("最多 {max_digits} 位数字", "At most {max_digits} digits"),
    "reason_string_too_short": ("至少填写 {min_length} 个字符", "At least {min_length} characters"),
    "reason_string_too_long": ("最多 {max_length} 个字符", "At most {max_length} characters"),
    "reason_date_parsing": ("请填写日期，如 2026-11-28", "Enter a date like 2026-11-28"),
    "reason_date_from_datetime_parsing": (
        "请填写日期，如 2026-11-28",
        "Enter a date like 2026-11-28",
    ),
    "reason_date_from_datetime_inexact": ("请填写日期，不含时间", "Enter a date without a time"),
    "subject": ("标题", "Subject"),
    "address": ("地址", "Address"),
    "attempts": ("尝试", "Attempts"),
    "sleep_report": ("睡眠报告", "Sleep report"),
    "policy_illustration": ("保单利益演示", "Policy illustration"),
    "heart_rate": ("心率", "Heart rate"),
    "respiration_rate": ("呼吸频率", "Respiration rate"),
    "in_bed": ("在床", "In bed"),
    "time_in_bed": ("在床时长", "Time in bed"),
    "sleep_onset": ("入睡", "Sleep onset"),
    "wake": ("起床", "Wake"),
    "out_of_bed": ("离床次数", "Out of bed"),
    "anomalies": ("异常", "Anomalies"),
    "no_sleep_data": ("当晚没有睡眠垫数据", "No sleep-mat data for this night"),
    "previous_night": ("前一晚", "Previous night"),
    "next_night": ("后一晚", "Next night"),
}


class Catalog:
    """Every label of an application; a key two sources spell differently is refused.

    A key nobody declared shows as itself and is remembered in `unknown`, so a test that
    renders every page can fail on an untranslated word.
    """

    def __init__(self, sources: Iterable[Mapping[str, tuple[str, str]]] = ()) -> None:
        self._labels: dict[str, tuple[str, str]] = dict(LABELS)
        self.unknown: set[str] = set()
        for source in sources:
            for key, texts in source.items():
                if self._labels.setdefault(key, texts) != texts:
                    raise ValueError(f"label {key!r} has two texts: {self._labels[key]} {texts}")

    def label(self, key: str, lang: str) -> str:
        texts = self._labels.get(key)
        if texts is None:
            self.unknown.add(key)
            return key
        zh, en = texts
        return en if lang == "en" else zh

    def __contains__(self, key: str) -> bool:
        return key in self._labels
