"""Labels in Chinese and English; pages pick one by the session's language."""

from __future__ import annotations

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
    "never": ("从未", "never"),
}


def label(key: str, lang: str) -> str:
    zh, en = LABELS.get(key, (key, key))
    return en if lang == "en" else zh
