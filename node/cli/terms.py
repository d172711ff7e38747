"""The Chinese terms the command line shows beside each state, word and step, in one table.

Officers read Chinese; the command line names every state, kind, ground and step by its
English value (what the flags take) with the Chinese term beside it: ``routed 已分流``,
``time_barred 超过三年``. The terms come from the comments and docstrings of
``core.ticket.vocabulary``, ``core.ticket.state``, ``core.officers`` and ``core.units`` (DOMAIN.md
§3-§6), completed where those give only English. They live here, at the edge, and not in
``core``: the core names things, the command line translates them for people.
"""

from __future__ import annotations

import enum

from core.access.record import AccessAction, AccessOutcome
from core.odr.dispute import (
    CloseReason,
    ContactMethod,
    ConversionReason,
    DisputeStatus,
    OdrStepKind,
)
from core.officer_accounts import AccountStatus
from core.officers import Role
from core.ticket.state import Stage, TicketStatus
from core.ticket.vocabulary import (
    BusinessForm,
    Channel,
    Duty,
    EscalationOutcome,
    Finding,
    JurisdictionBasis,
    MediationOutcome,
    PersonalField,
    RefusalGround,
    ReminderLevel,
    ReturnReason,
    Satisfaction,
    SourceLine,
    TerminationReason,
    TicketKind,
    Track,
)
from core.units import UnitLevel

TERMS: dict[enum.Enum, str] = {
    AccountStatus.ACTIVE: "在用",
    AccountStatus.REVOKED: "已注销",
    TicketStatus.UNKNOWN: "未知(历史不全)",
    TicketStatus.REGISTERED: "已登记",
    TicketStatus.ROUTED: "已分流",
    TicketStatus.RETURNED: "已退回",
    TicketStatus.IN_HANDLING: "办理中",
    TicketStatus.CLOSED: "已办结",
    TicketStatus.DUPLICATE: "重复件",
    Stage.AWAITING_DECISION: "待处理",
    Stage.MEDIATING: "调解中",
    Stage.MEDIATION_PAUSED: "调解中止(检测鉴定)",
    Stage.MEDIATION_ENDED: "调解终结",
    Stage.VERIFIED: "已核查",
    Stage.RESULT_SUBMITTED: "待审批",
    Stage.CLOSED: "已办结",
    Stage.REFUSED: "不予受理",
    TicketKind.CONSULTATION: "咨询",
    TicketKind.COMPLAINT: "投诉",
    TicketKind.REPORT: "举报",
    TicketKind.SUGGESTION: "意见建议",
    TicketKind.COMPOSITE: "投诉举报复合件",
    Track.COMPLAINT: "投诉",
    Track.REPORT: "举报",
    Track.INQUIRY: "咨询/建议",
    Channel.PHONE: "电话",
    Channel.VOICEMAIL: "留言",
    Channel.WEB: "网站",
    Channel.APP: "手机应用",
    Channel.WECHAT: "微信",
    Channel.QQ: "QQ",
    Channel.SMS: "短信",
    Channel.EMAIL: "电子邮件",
    Channel.LETTER: "信件",
    Channel.VISIT: "来访",
    Channel.TRANSFER_12345: "12345转办",
    Channel.ODR: "在线纠纷解决(ODR)",
    SourceLine.LINE_12315: "工商",
    SourceLine.LINE_12331: "食品药品",
    SourceLine.LINE_12365: "质量",
    SourceLine.LINE_12358: "价格",
    SourceLine.LINE_12330: "知识产权",
    BusinessForm.PHYSICAL: "实体经营",
    BusinessForm.PLATFORM: "电商平台",
    BusinessForm.OWN_WEBSITE: "自建网站",
    BusinessForm.PLATFORM_SHOP: "平台内经营者",
    JurisdictionBasis.OPERATING_ADDRESS: "实际经营地",
    JurisdictionBasis.REGISTERED_ADDRESS: "住所地",
    JurisdictionBasis.PLATFORM_REGISTRATION: "平台注册地",
    JurisdictionBasis.PLATFORM_FALLBACK: "平台所在地(兜底)",
    JurisdictionBasis.CONDUCT_LOCATION: "违法行为发生地",
    JurisdictionBasis.RELAY: "转送",
    JurisdictionBasis.DISPATCHER_DECISION: "分流员指定",
    ReturnReason.MISSING_ELEMENTS: "缺失要素",
    ReturnReason.WRONG_TYPE: "类型有误",
    ReturnReason.ADDRESS_UNCLEAR: "地址不详",
    ReturnReason.DUPLICATE: "重复受理",
    ReturnReason.NOT_OUR_DUTY: "不属本职",
    RefusalGround.NOT_COMPETENT: "不属于本部门职责或管辖",
    RefusalGround.HANDLED_ELSEWHERE: "已由法院、仲裁、消协等处理",
    RefusalGround.NOT_CONSUMER_DISPUTE: "非生活消费或无法证实的纠纷",
    RefusalGround.TIME_BARRED: "超过三年",
    RefusalGround.MISSING_FACTS: "缺少必要事实",
    RefusalGround.IDENTITY_NOT_VERIFIED: "身份未核实",
    RefusalGround.OTHER_LEGAL_GROUND: "其他法定情形",
    MediationOutcome.AGREEMENT: "达成调解协议",
    MediationOutcome.SETTLED: "协商和解",
    MediationOutcome.WITHDRAWN: "撤回投诉",
    MediationOutcome.TERMINATED: "终止调解",
    TerminationReason.NO_AGREEMENT_ON_TESTING: "对检测鉴定不能达成一致",
    TerminationReason.PARTY_ABSENT_OR_REFUSES: "当事人拒绝或无故缺席",
    TerminationReason.NO_AGREEMENT_POSSIBLE: "无法达成调解协议",
    TerminationReason.TIME_LIMIT_REACHED: "超过45个工作日",
    TerminationReason.REFUSAL_GROUND_FOUND: "受理后发现不予受理情形",
    Finding.SUBSTANTIATED: "属实",
    Finding.NOT_SUBSTANTIATED: "不属实",
    Satisfaction.VERY_SATISFIED: "非常满意",
    Satisfaction.SATISFIED: "满意",
    Satisfaction.NEUTRAL: "一般",
    Satisfaction.DISSATISFIED: "不满意",
    Duty.DECIDE_ACCEPTANCE: "受理/不予受理",
    Duty.END_MEDIATION: "调解终结",
    Duty.VERIFY_REPORT: "核查/立案",
    Duty.CALLBACK: "回访",
    Duty.ODR_ANSWER: "ODR企业和解",
    Duty.SUPERVISION_REPORT: "督办回复",
    EscalationOutcome.STANDING: "督办中",
    EscalationOutcome.ENDED: "已结束(计入)",
    EscalationOutcome.SUPERSEDED: "已撤销(按时办理)",
    EscalationOutcome.REPEATED: "重复(不计)",
    EscalationOutcome.MOOT: "无效(不计)",
    ReminderLevel.HANDLER: "承办人",
    ReminderLevel.UNIT_HEAD: "负责人",
    ReminderLevel.SUPERVISING_UNIT: "上级督办单位",
    Role.OPERATOR: "接线员/登记员",
    Role.DISPATCHER: "分流/派单",
    Role.HANDLER: "承办人",
    Role.UNIT_HEAD: "负责人",
    Role.SUPERVISOR: "督办",
    Role.STATION_OFFICER: "市场监管所人员",
    Role.SECURITY_ADMIN: "安全管理员",
    Role.SYSTEM_ADMIN: "系统管理员",
    Role.AUDIT_ADMIN: "审计管理员",
    UnitLevel.NATIONAL: "总局",
    UnitLevel.PROVINCE: "省局",
    UnitLevel.CITY: "市(州)局",
    UnitLevel.COUNTY: "县(区)局",
    UnitLevel.STATION: "市场监管所",
    AccessAction.SIGN_IN: "登录",
    AccessAction.SIGN_OUT: "退出",
    AccessAction.LOCKOUT: "锁定",
    AccessAction.CALL: "调用",
    AccessAction.SET_CREDENTIALS: "设置口令",
    AccessAction.INIT_ADMIN: "创建安全管理员",
    AccessAction.READ_RECORD: "查阅访问记录",
    AccessAction.ENTERPRISE_USER: "企业用户账户",
    AccessAction.OFFICER_ACCOUNT: "人员账户",
    AccessAction.ADMIN_ACT: "管理操作",
    AccessAction.PERSONAL_DATA: "查看个人信息",
    PersonalField.NAME: "姓名",
    PersonalField.PHONE: "电话",
    PersonalField.ADDRESS: "地址",
    PersonalField.ID_NUMBER: "身份证号",
    AccessOutcome.DONE: "成功",
    AccessOutcome.REFUSED: "拒绝",
    DisputeStatus.NEGOTIATING: "协商中",
    DisputeStatus.PROPOSED: "待消费者确认",
    DisputeStatus.SETTLED: "已和解",
    DisputeStatus.CONVERTED: "已转为投诉",
    DisputeStatus.WITHDRAWN: "已撤回",
    ContactMethod.PHONE: "电话",
    ContactMethod.ON_SITE: "现场",
    ContactMethod.ONLINE: "线上",
    ContactMethod.MESSAGE: "短信/留言",
    ConversionReason.REJECTED: "消费者不接受",
    ConversionReason.NO_ANSWER_IN_TIME: "逾期未和解",
    ConversionReason.DECLINED: "企业拒绝和解",
    CloseReason.DECLINED: "企业拒绝和解",
    CloseReason.CONSUMER_WITHDREW: "消费者撤回",
    OdrStepKind.OPENED: "选择绿色通道",
    OdrStepKind.CONTACT: "协商联系",
    OdrStepKind.PROPOSAL: "和解方案",
    OdrStepKind.ANSWER: "消费者答复",
    OdrStepKind.CLOSED: "关闭",
    OdrStepKind.CONVERTED: "转为投诉",
}
"""Every member of every enum the command line shows, and its Chinese term."""

ENUMS: dict[str, type[enum.Enum]] = {
    cls.__name__: cls
    for cls in (
        TicketStatus,
        Stage,
        TicketKind,
        Track,
        Channel,
        SourceLine,
        BusinessForm,
        JurisdictionBasis,
        ReturnReason,
        RefusalGround,
        MediationOutcome,
        TerminationReason,
        Finding,
        Satisfaction,
        Duty,
        EscalationOutcome,
        ReminderLevel,
        Role,
        UnitLevel,
        PersonalField,
        DisputeStatus,
        ContactMethod,
        ConversionReason,
        CloseReason,
        OdrStepKind,
    )
}
"""The enums above by name: a proto enum of the same name is shown through them."""

EVENT_TERMS: dict[str, str] = {
    "TicketRegistered": "登记",
    "TicketRouted": "分流/派单",
    "TicketReturned": "退回",
    "ComplaintAccepted": "受理",
    "ComplaintRefused": "不予受理",
    "TicketAssigned": "派至市场监管所",
    "MediationPaused": "调解中止(检测鉴定)",
    "MediationResumed": "恢复调解",
    "MediationEnded": "调解终结",
    "ReportVerified": "核查",
    "CaseOpened": "立案",
    "ResultSubmitted": "提交办理结果",
    "ResultApproved": "审批通过",
    "ResultRejected": "审批退回",
    "InquiryAnswered": "答复",
    "CallbackRecorded": "回访",
    "TicketReopened": "回炉重办",
    "ReminderSent": "催办",
    "TicketEscalated": "督办(逾期升级)",
    "ExtensionRequested": "延期申请",
    "ExtensionDecided": "延期审批",
    "SupervisionOrdered": "跟踪督办",
    "SupervisionReported": "督办回复",
    "GroupIncidentLinked": "群体投诉",
    "EmergencyEscalated": "紧急事件",
    "ProfessionalClaimantFlagged": "职业索赔",
    "TicketForwarded": "转办",
    "PersonalDataRevealed": "查看个人信息",
    "PersonalDataErased": "个人信息删除",
    "OdrDisputeOpened": "ODR绿色通道",
    "OdrContactRecorded": "ODR协商记录",
    "OdrSettlementProposed": "ODR和解方案",
    "OdrProposalAnswered": "消费者答复和解方案",
    "OdrDisputeClosed": "ODR撤回",
    "OdrDisputeConverted": "ODR转为投诉",
}
"""Each event of a ticket's history (``core.ticket.events``) by the Chinese name of the step."""


def chinese(member: enum.Enum) -> str:
    """The Chinese term of ``member`` ('' when the table has none)."""
    return TERMS.get(member, "")


def term(member: enum.Enum) -> str:
    """``member`` as the command line shows it: its value and the Chinese term beside it."""
    zh = TERMS.get(member)
    return f"{member.value} {zh}" if zh else str(member.value)


def event_term(event_type: str) -> str:
    """An event type (``TicketRouted`` or ``hotline.v1.TicketRouted``) with its Chinese name."""
    short = event_type.rsplit(".", 1)[-1]
    zh = EVENT_TERMS.get(short)
    return f"{short} {zh}" if zh else short


def choices_with_terms(kind: type[enum.Enum]) -> str:
    """The values a flag of enum ``kind`` takes, each with its term, for the flag's help."""
    return ", ".join(term(m) for m in kind)


def term_of(kind: type[enum.Enum], value: str) -> str:
    """``value`` of enum ``kind`` with its term; the bare value when it is not a member."""
    try:
        return term(kind(value))
    except ValueError:
        return value
