"""How the pages write times, amounts and states: China time with its zone, yuan, Chinese.

Every time a person reads is China time with the zone named (``2026-12-03 18:00
北京时间(UTC+8)``, core.deadlines.china_time); amounts travel in fen and read in yuan. These are
the Jinja filters and globals of the templates.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from google.protobuf.timestamp_pb2 import Timestamp

from core.deadlines.china_time import CHINA_TZ, china_datetime
from proto.hotline.v1 import common_pb2, enrolment_pb2, odr_pb2

ZONE = "北京时间(UTC+8)"


def china_time(stamp: Timestamp | None) -> str:
    """``stamp`` in China time with the zone; '—' when unset."""
    if stamp is None or (stamp.seconds == 0 and stamp.nanos == 0):
        return "—"
    at_ms = stamp.seconds * 1000 + stamp.nanos // 1_000_000
    return f"{china_datetime(at_ms):%Y-%m-%d %H:%M} {ZONE}"


def due_time(stamp: Timestamp | None) -> str:
    """A due instant in China time: a limit ending with a day (the exclusive 00:00 after it,
    core.deadlines.china_time) reads as that day's 24:00, as a notice would write it."""
    if stamp is None or (stamp.seconds == 0 and stamp.nanos == 0):
        return "—"
    at_ms = stamp.seconds * 1000 + stamp.nanos // 1_000_000
    moment = china_datetime(at_ms)
    if (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0):
        return f"{china_datetime(at_ms - 1):%Y-%m-%d} 24:00 {ZONE}"
    return china_time(stamp)


def parse_china_minute(text: str) -> Timestamp | None:
    """A ``datetime-local`` form value (China time) as a Timestamp; None when unreadable."""
    try:
        moment = datetime.strptime(text.strip(), "%Y-%m-%dT%H:%M").replace(tzinfo=CHINA_TZ)
    except ValueError:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def yuan(fen: int) -> str:
    """``fen`` as yuan with two decimals (¥12.50)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}¥{whole}.{cents:02d}"


def fen_of(text: str) -> int | None:
    """A yuan amount typed in a form (``12.5``) in fen; None when it is no amount.

    Only the reading is done here: whether the amount is allowed is the node's to say.
    """
    cleaned = text.strip().replace("¥", "").replace(",", "")
    if not cleaned:
        return 0
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        return None
    return int(amount * 100)


DISPUTE_STATUS = {
    odr_pb2.DISPUTE_STATUS_NEGOTIATING: "协商中",
    odr_pb2.DISPUTE_STATUS_PROPOSED: "待消费者确认",
    odr_pb2.DISPUTE_STATUS_SETTLED: "已和解",
    odr_pb2.DISPUTE_STATUS_CONVERTED: "已转为投诉",
    odr_pb2.DISPUTE_STATUS_WITHDRAWN: "已撤回",
}
CONTACT_METHOD = {
    odr_pb2.CONTACT_METHOD_PHONE: "电话",
    odr_pb2.CONTACT_METHOD_ON_SITE: "现场",
    odr_pb2.CONTACT_METHOD_ONLINE: "线上",
    odr_pb2.CONTACT_METHOD_MESSAGE: "短信/留言",
}
STEP_KIND = {
    odr_pb2.ODR_STEP_KIND_OPENED: "进入ODR绿色通道",
    odr_pb2.ODR_STEP_KIND_CONTACT: "协商记录",
    odr_pb2.ODR_STEP_KIND_PROPOSAL: "提出和解方案",
    odr_pb2.ODR_STEP_KIND_ANSWER: "消费者答复",
    odr_pb2.ODR_STEP_KIND_CLOSED: "企业关闭",
    odr_pb2.ODR_STEP_KIND_CONVERTED: "转为正式投诉",
}
CONVERSION_REASON = {
    odr_pb2.CONVERSION_REASON_REJECTED: "消费者拒绝和解方案",
    odr_pb2.CONVERSION_REASON_NO_ANSWER_IN_TIME: "期限内未和解",
    odr_pb2.CONVERSION_REASON_DECLINED: "企业拒绝和解",
}
VERDICT = {
    odr_pb2.STANDING_VERDICT_GOOD: "良好",
    odr_pb2.STANDING_VERDICT_WARNING: "警告",
    odr_pb2.STANDING_VERDICT_REMOVAL_PROPOSED: "建议移出",
}
SATISFACTION = {
    common_pb2.SATISFACTION_VERY_SATISFIED: "非常满意",
    common_pb2.SATISFACTION_SATISFIED: "满意",
    common_pb2.SATISFACTION_NEUTRAL: "一般",
    common_pb2.SATISFACTION_DISSATISFIED: "不满意",
}
DUTY = {
    common_pb2.DUTY_DECIDE_ACCEPTANCE: "决定是否受理",
    common_pb2.DUTY_END_MEDIATION: "调解终结",
    common_pb2.DUTY_VERIFY_REPORT: "核查",
    common_pb2.DUTY_CALLBACK: "回访",
    common_pb2.DUTY_ODR_ANSWER: "企业和解答复",
    common_pb2.DUTY_SUPERVISION_REPORT: "督办回复",
}
ROSTER_STANDING = {
    enrolment_pb2.ROSTER_STANDING_ENROLLED: "在册",
    enrolment_pb2.ROSTER_STANDING_WARNED: "已警告",
    enrolment_pb2.ROSTER_STANDING_REMOVED: "已移出",
    enrolment_pb2.ROSTER_STANDING_DISQUALIFIED: "取消资格",
}
APPLICANT_KIND = {
    enrolment_pb2.APPLICANT_KIND_ENTERPRISE: "企业",
    enrolment_pb2.APPLICANT_KIND_MALL_DESK: "商场消费争议受理站",
    enrolment_pb2.APPLICANT_KIND_ASSOCIATION: "行业协会",
}
TICKET_STATUS = {
    "UNKNOWN": "查询中",
    "REGISTERED": "已登记",
    "ROUTED": "已分派至承办单位",
    "RETURNED": "退回重新分派",
    "IN_HANDLING": "办理中",
    "CLOSED": "已办结",
    "DUPLICATE": "重复件(并入先前投诉)",
}

STEP_WORDS = {
    "TicketRegistered": "登记",
    "TicketRouted": "分派至承办单位",
    "TicketReturned": "退回重新分派",
    "TicketForwarded": "移送",
    "ComplaintAccepted": "受理",
    "ComplaintRefused": "不予受理",
    "TicketAssigned": "指定承办人",
    "MediationPaused": "调解中止(检测、鉴定)",
    "MediationResumed": "恢复调解",
    "MediationEnded": "调解终结",
    "ReportVerified": "核查完毕",
    "CaseOpened": "立案",
    "ResultSubmitted": "提交办理结果",
    "ResultApproved": "办理结果经审核",
    "InquiryAnswered": "答复咨询",
    "CallbackRecorded": "回访",
    "TicketReopened": "重新办理",
    "TicketEscalated": "提级办理",
    "SupervisionOrdered": "上级督办",
    "SupervisionReported": "督办回复",
}
"""What a consumer reads of a step of their ticket, by the event's name as FollowTicket gives
it; a name not listed here is shown as given. ODR steps are not among them: FollowTicket gives
those in the dispute's history (``STEP_KIND``)."""


def step_word(what: str) -> str:
    """A step of the consumer's ticket in Chinese (the name itself when unknown)."""
    return STEP_WORDS.get(what, what)


def time_left(dispute: odr_pb2.Dispute) -> str:
    """What an enterprise reads of a dispute's time left (超期 when past the limit)."""
    if dispute.overdue:
        return "已超期"
    if not dispute.HasField("due_at"):
        return "—"
    if dispute.working_days_left <= 0:
        return "今日到期"
    return f"剩余{dispute.working_days_left}个工作日"


def label(table: dict[int, str], value: int) -> str:
    """``value``'s Chinese name in ``table`` ('—' when unset or unknown)."""
    return table.get(value, "—")


def status_word(status: str) -> str:
    """A ticket status name in Chinese, with the name kept when unknown."""
    return TICKET_STATUS.get(status.upper(), status)
