"""Every admin command's arguments, declared with argparse alone.

Building the parser imports no SQLAlchemy, pydantic, storage or bot.config: `bangfu --help`,
`bangfu COMMAND --help` and an argument error answer at once. Each command's handler lives in
its area's module (bot.cli.invite, bot.cli.roster, ...), imported by `lazy` only when that
command runs. Choices that mirror constants of heavier modules are copied here;
tests/test_cli_imports.py checks that they agree.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path
from typing import Any

# Copies of constants kept light (the originals import the policy models or SQLAlchemy).
QUOTA_PRESET_NAMES = ("865321", "543", "一包三", "博白", "融水", "利州")  # core.policy
HOUSEHOLD_STATUSES = ("脱贫", "监测户", "已消除风险", "退出")  # storage.household_status
RECORD_KINDS = ("call", "visit")  # bot.cli.changes.KINDS
ROLES = ("admin", "supervisor", "viewer")  # storage.webusers
LEDGERS = ("contacts", "diaries", "events", "problems", "cadres", "households")  # storage.ledgers


class lazy:
    """A command handler named by module and function, imported only when it runs."""

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name

    def __call__(self, args: argparse.Namespace) -> Any:
        return getattr(importlib.import_module(self.module), self.name)(args)

    def __repr__(self) -> str:
        return f"lazy({self.module}:{self.name})"


def _db(sub: argparse._SubParsersAction) -> None:
    db = sub.add_parser("db", help="数据库 / database").add_subparsers(dest="db_cmd", required=True)
    up = db.add_parser("upgrade", help="建表或升级 / create or migrate the schema")
    up.add_argument("--url", help="database URL (default: BANGFU_DATABASE_URL)")
    up.set_defaults(func=lazy("bot.cli.db", "_upgrade"))


def _backup(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser(
        "backup", help="备份数据库（机器人可继续运行）/ back up the database (bot may run)"
    )
    b.add_argument("file", type=Path, help="backup file to write (SQLite file or pg_dump archive)")
    b.add_argument("--url", help="database URL (default: BANGFU_DATABASE_URL)")
    b.add_argument("--force", action="store_true", help="replace FILE if it exists")
    b.set_defaults(func=lazy("bot.cli.backup", "_backup"))
    r = sub.add_parser("restore", help="从备份恢复（先停机器人）/ restore a backup (stop the bot)")
    r.add_argument("file", type=Path, help="a file written by bangfu backup")
    r.add_argument("--url", help="database URL (default: BANGFU_DATABASE_URL)")
    r.add_argument("--yes", action="store_true", help="yes, replace all data in the database")
    r.set_defaults(func=lazy("bot.cli.backup", "_restore"))


def _demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="终端里试用 / try the bot in the terminal")
    p.add_argument("--lang", choices=["zh", "en"], default="zh")
    p.set_defaults(func=lazy("bot.cli.demo", "_demo"))


def _run(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser("run", help="运行机器人 / run the bot (Ctrl-C to stop)")
    run.set_defaults(func=lazy("bot.cli.run", "_run"))


def _roster(sub: argparse._SubParsersAction) -> None:
    roster = sub.add_parser("roster", help="名册 / roster").add_subparsers(
        dest="roster_cmd", required=True
    )
    imp = roster.add_parser("import", help="导入名册 / import a roster (.xlsx, .csv)")
    imp.add_argument("file", type=Path, help="名册文件 / roster file (.xlsx, .csv UTF-8/GBK)")
    imp.add_argument(
        "--policy",
        choices=QUOTA_PRESET_NAMES,
        help="结对任务标准 / quota preset (default: the configured policy)",
    )
    imp.add_argument("--dry-run", action="store_true", help="只检查不写入 / check, write nothing")
    imp.add_argument(
        "--replace",
        action="store_true",
        help="文件是该单位的完整名册：文件里没有的结对结束 / the unit's complete roster",
    )
    imp.add_argument("--unit", help="--replace 的单位路径 / the unit the file replaces")
    imp.set_defaults(func=lazy("bot.cli.roster", "_import"))
    rec = roster.add_parser(
        "recover", help="撤回中断的导入 / take back an import that was killed half-way"
    )
    rec.set_defaults(func=lazy("bot.cli.roster", "_recover"))
    tpl = roster.add_parser("template", help="生成空白名册模板 / write an empty .xlsx template")
    tpl.add_argument("file", type=Path, help="FILE.xlsx")
    tpl.set_defaults(func=lazy("bot.cli.roster", "_template"))


def _invite(sub: argparse._SubParsersAction) -> None:
    invite = sub.add_parser("invite", help="绑定码 / enrolment codes").add_subparsers(
        dest="invite_cmd", required=True
    )
    create = invite.add_parser(
        "create", help="生成一次性绑定码 / create a one-time code for a cadre or a group"
    )
    create.add_argument("--phone", help="干部手机号 / the cadre's phone")
    create.add_argument("--group", action="store_true", help="督导群 / for a supervisors' group")
    create.add_argument("--unit", help="单位路径 / unit path, e.g. 博白县/顿谷镇")
    create.set_defaults(func=lazy("bot.cli.invite", "_create"))
    sheet = invite.add_parser(
        "sheet", help="打印用绑定码表（含二维码）/ a printable sheet of codes with QR codes"
    )
    sheet.add_argument("--unit", required=True, help="单位路径（含下级）/ unit path and below")
    sheet.add_argument("file", type=Path, help="FILE.xlsx、FILE.pdf 或 FILE.html")
    sheet.add_argument(
        "--phone", action="append", default=[], help="只给这些干部 / only these cadres (repeat)"
    )
    sheet.add_argument(
        "--renew",
        action="store_true",
        help="作废未用的旧码，发新码 / replace unused codes (bound accounts are never touched)",
    )
    sheet.set_defaults(func=lazy("bot.cli.invite", "_sheet"))


def _cadre(sub: argparse._SubParsersAction) -> None:
    cadre = sub.add_parser("cadre", help="干部 / cadres").add_subparsers(
        dest="cadre_cmd", required=True
    )
    leave = cadre.add_parser("leave", help="登记或取消请假 / record or clear a leave")
    leave.add_argument("--phone", required=True, help="干部手机号 / the cadre's phone")
    until = leave.add_mutually_exclusive_group(required=True)
    until.add_argument("--until", help="请假至（含）/ on leave through, e.g. 2026-12-31")
    until.add_argument("--clear", action="store_true", help="取消请假 / end the leave")
    leave.set_defaults(func=lazy("bot.cli.cadre", "_leave"))
    move = cadre.add_parser("transfer", help="调动到另一单位 / move a cadre to another unit")
    move.add_argument("--phone", required=True, help="干部手机号 / the cadre's phone")
    move.add_argument("--unit", required=True, help="新单位路径 / the new unit's path")
    move.add_argument(
        "--end-pairings",
        action="store_true",
        help="同时结束其结对 / also end the cadre's pairings (reason: 调动)",
    )
    move.set_defaults(func=lazy("bot.cli.cadre", "_transfer"))
    off = cadre.add_parser("deactivate", help="停用干部 / a cadre who left (history kept)")
    off.add_argument("--phone", required=True, help="干部手机号 / the cadre's phone")
    off.set_defaults(func=lazy("bot.cli.cadre", "_deactivate"))


def _outbox(sub: argparse._SubParsersAction) -> None:
    box = sub.add_parser("outbox", help="发件箱 / outgoing messages").add_subparsers(
        dest="outbox_cmd", required=True
    )
    box.add_parser("status", help="各状态条数 / count by status").set_defaults(
        func=lazy("bot.cli.outbox", "_status")
    )
    again = box.add_parser("requeue", help="重发放弃的消息 / send given-up (dead) messages again")
    again.add_argument("--failed", action="store_true", help="也重发永久失败的 / failed ones too")
    again.set_defaults(func=lazy("bot.cli.outbox", "_requeue"))


def _reminders(sub: argparse._SubParsersAction) -> None:
    cal = sub.add_parser("calendar", help="五必访日历 / must-visit occasions of a year")
    cal.add_argument("year", type=int, help="e.g. 2027")
    cal.set_defaults(func=lazy("bot.cli.reminders", "_calendar"))
    rem = sub.add_parser("reminders", help="提醒 / reminder sweeps")
    cmds = rem.add_subparsers(dest="reminders_cmd", required=True)
    for name, helptext, func in (
        ("preview", "预览某时刻的提醒（不发送）/ what a sweep at T would send", "_preview"),
        ("run", "执行提醒扫描，写入发件箱 / run the sweep into the outbox", "_run"),
    ):
        p = cmds.add_parser(name, help=helptext)
        p.add_argument("--at", help="ISO date or time in the configured zone (default: now)")
        p.add_argument("--url", help="database URL (default: BANGFU_DATABASE_URL)")
        p.set_defaults(func=lazy("bot.cli.reminders", func))
        if name == "run":
            p.add_argument(
                "--schedule",
                action="store_true",
                help="--at 是将来时：到时由 bangfu run 执行 / a future --at: run the sweep then",
            )


def _digest(sub: argparse._SubParsersAction) -> None:
    digest = sub.add_parser("digest", help="周汇总/月总结 / supervisors' digests")
    cmds = digest.add_subparsers(dest="digest_cmd", required=True)
    preview = cmds.add_parser("preview", help="显示一个单位的汇总 / print one unit's digest")
    preview.add_argument("--unit", required=True, help="单位路径, e.g. 博白县/顿谷镇")
    preview.add_argument("--chart", type=Path, help="write the chart PNG to this file")
    preview.add_argument("--lang", choices=("zh", "en"), default="zh")
    send = cmds.add_parser("send", help="把汇总放入发送队列 / enqueue every group's digest")
    for p in (preview, send):
        p.add_argument("--at", help="as of this time (default: now), e.g. 2026-11-23T08:30")
        p.add_argument("--monthly", action="store_true", help="月总结 of the previous month")
        p.add_argument("--url", help="database URL (default: BANGFU_DATABASE_URL)")
    send.add_argument(
        "--schedule",
        action="store_true",
        help="--at 是将来时：到时由 bangfu run 计算并发送 / a future --at: compute and send then",
    )
    preview.set_defaults(func=lazy("bot.cli.digest", "_preview"))
    send.set_defaults(func=lazy("bot.cli.digest", "_send"))


def _group_parsers(sub: argparse._SubParsersAction) -> argparse._SubParsersAction:
    """The `group` command's subparsers, shared with any other area that adds to it."""
    parser = sub.choices.get("group")
    if parser is None:
        parser = sub.add_parser("group", help="督导群 / supervisors' groups")
        return parser.add_subparsers(dest="group_cmd", required=True, metavar="ACTION")
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return parser.add_subparsers(dest="group_cmd", required=True, metavar="ACTION")


def _wecom(sub: argparse._SubParsersAction) -> None:
    add = _group_parsers(sub).add_parser(
        "add-wecom", help="登记企业微信群机器人 / register a WeCom group robot for a unit"
    )
    add.add_argument("--unit", required=True, help="单位路径 / unit path, e.g. 博白县/顿谷镇")
    add.add_argument(
        "--webhook-key",
        required=True,
        help="机器人 webhook 的 key（或整个 webhook 地址）/ the robot's webhook key or URL",
    )
    add.add_argument("--title", default="", help="群名称 / group name (optional)")
    add.add_argument(
        "--test",
        action="store_true",
        help="发一条测试消息到群里 / send a test message to the group",
    )
    add.set_defaults(func=lazy("bot.cli.wecom", "_add_wecom"))
    wecom = sub.add_parser("wecom", help="企业微信 / WeCom").add_subparsers(
        dest="wecom_cmd", required=True, metavar="ACTION"
    )
    check = wecom.add_parser(
        "check", help="检查企业微信应用配置 / check the WeCom app's settings and credentials"
    )
    check.add_argument("--send-to", metavar="USERID", help="再给这个成员发一条测试消息")
    check.set_defaults(func=lazy("bot.cli.wecom", "_check"))
    sync = wecom.add_parser(
        "sync", help="按手机号从通讯录绑定干部，无需绑定码 / bind cadres through the directory"
    )
    sync.add_argument("--unit", help="只同步这个单位及下级 / only this unit and below")
    sync.add_argument(
        "--per-second",
        type=float,
        default=5.0,
        help="每秒最多查询几次 / lookups per second (WeCom limits the rate)",
    )
    sync.set_defaults(func=lazy("bot.cli.wecom", "_sync"))


def _parse(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("parse", help="试读一条消息 / show how the bot reads a message")
    p.add_argument("--phone", required=True, help="干部手机号 / the cadre's phone")
    p.add_argument("--at", help="发送时间 / when it is sent, e.g. 2026-11-30T10:00+08:00")
    p.add_argument("text", help="消息原文 / the message as typed")
    p.set_defaults(func=lazy("bot.cli.parse", "_parse"))


def _changes(sub: argparse._SubParsersAction) -> None:
    pairing = sub.add_parser("pairing", help="结对 / pairings").add_subparsers(
        dest="pairing_cmd", required=True
    )
    end = pairing.add_parser("end", help="结束一个结对 / end a pairing (history kept)")
    end.add_argument("--phone", required=True, help="干部手机号 / the cadre's phone")
    end.add_argument("--household", required=True, help="户编号或户 ID / household code or id")
    end.add_argument("--reason", required=True, help="原因 / why, e.g. 调整帮扶责任人")
    end.set_defaults(func=lazy("bot.cli.changes", "_pairing_end"))

    household = sub.add_parser("household", help="帮扶户 / households").add_subparsers(
        dest="household_cmd", required=True
    )
    exit_ = household.add_parser("exit", help="户退出帮扶 / a household leaves the programme")
    exit_.add_argument("--id", required=True, help="户编号或户 ID / household code or id")
    exit_.add_argument("--status", required=True, help="退出情形 / e.g. 迁出、自然消亡、清退")
    exit_.add_argument("--date", default="", help="退出日期 / since when (default: today)")
    exit_.set_defaults(func=lazy("bot.cli.changes", "_household_exit"))
    status = household.add_parser("status", help="户状态 / 脱贫、监测户、已消除风险、退出")
    status.add_argument("--id", required=True, help="户编号或户 ID / household code or id")
    status.add_argument(
        "--status", required=True, help="户状态 / one of " + "、".join(HOUSEHOLD_STATUSES)
    )
    status.add_argument("--date", default="", help="日期 / since when (default: today)")
    status.add_argument("--reason", default="", help="说明 / a note, e.g. 迁出")
    status.set_defaults(func=lazy("bot.cli.changes", "_household_status"))

    record = sub.add_parser("record", help="补录 / records").add_subparsers(
        dest="record_cmd", required=True
    )
    add = record.add_parser("add", help="代干部补录电话或走访 / enter a call or visit for a cadre")
    add.add_argument("--phone", required=True, help="干部手机号 / the cadre's phone")
    add.add_argument("--household", required=True, help="户编号或户 ID / household code or id")
    add.add_argument(
        "--kind", required=True, choices=sorted(RECORD_KINDS), help="call 电话 | visit 走访"
    )
    add.add_argument("--date", required=True, help="日期 / when, e.g. 2026-11-20")
    add.add_argument("--note", default="", help="情况 / what was done")
    add.add_argument("--by", default="", help="录入人 / who enters it (default: the OS user)")
    add.set_defaults(func=lazy("bot.cli.changes", "_record_add"))


def _score(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("score", help="考核得分导出 / export a unit's assessment scores")
    p.add_argument("--unit", required=True, help="单位路径, e.g. 博白县/顿谷镇")
    when = p.add_mutually_exclusive_group(required=True)
    when.add_argument("--month", help="YYYY-MM")
    when.add_argument("--quarter", help="YYYY-Qn, e.g. 2026-Q4")
    p.add_argument("--at", help="as of this day (default: today)")
    p.add_argument("--url", help="database URL (default: BANGFU_DATABASE_URL)")
    p.add_argument("file", type=Path, help="FILE.csv or FILE.xlsx")
    p.set_defaults(func=lazy("bot.cli.score", "_export"))


def _user(sub: argparse._SubParsersAction) -> None:
    user = sub.add_parser("user", help="网页后台账号 / web console accounts").add_subparsers(
        dest="user_cmd", required=True
    )
    create = user.add_parser("create", help="新建账号 / create an account")
    create.add_argument("--name", required=True, help="登录名 / sign-in name")
    create.add_argument("--unit", required=True, help="单位路径, e.g. 博白县/顿谷镇")
    create.add_argument("--role", required=True, choices=ROLES)
    create.set_defaults(func=lazy("bot.cli.user", "_create"))
    user.add_parser("list", help="列出账号 / list accounts").set_defaults(
        func=lazy("bot.cli.user", "_list")
    )
    for cmd, fn, text in (
        ("disable", "_disable", "停用账号 / disable an account"),
        ("enable", "_enable", "恢复账号 / enable an account"),
        ("reset", "_reset", "重置密码 / reset the password"),
    ):
        p = user.add_parser(cmd, help=text)
        p.add_argument("--name", required=True)
        p.set_defaults(func=lazy("bot.cli.user", fn))


def _export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="导出台账 / export a ledger to .xlsx or .csv")
    p.add_argument("ledger", choices=LEDGERS)
    p.add_argument("--unit", required=True, help="单位路径, e.g. 博白县/顿谷镇")
    p.add_argument("--from", dest="since", help="起始日期 / first day, e.g. 2026-01-01")
    p.add_argument("--to", dest="until", help="截止日期 / last day, e.g. 2026-12-31")
    p.add_argument("file", type=Path, help="输出文件 / output file (.xlsx or .csv)")
    p.set_defaults(func=lazy("bot.cli.export", "_export"))


def _web(sub: argparse._SubParsersAction) -> None:
    web = sub.add_parser("web", help="只运行网页后台 / serve only the web console")
    web.set_defaults(func=lazy("bot.cli.web", "_web"))


def _doctor(sub: argparse._SubParsersAction) -> None:
    doctor = sub.add_parser(
        "doctor",
        help="检查联系状态与记录是否一致 / check the kept contact state against the records",
    )
    doctor.add_argument("--fix", action="store_true", help="按记录修复 / repair from the records")
    doctor.set_defaults(func=lazy("bot.cli.doctor", "_doctor"))


# In the order `bangfu --help` lists them.
AREAS = (
    _db,
    _backup,
    _demo,
    _run,
    _roster,
    _invite,
    _cadre,
    _outbox,
    _reminders,
    _digest,
    _wecom,
    _parse,
    _changes,
    _score,
    _user,
    _export,
    _web,
    _doctor,
)


def register_all(sub: argparse._SubParsersAction) -> None:
    for area in AREAS:
        area(sub)
