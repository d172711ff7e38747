"""A node's refusal as a page shows it: a Chinese message, next to the field it names.

The node decides every refusal (``node.edge.errors`` maps its errors to status codes; an
INVALID_ARGUMENT message starts with the dotted path of the field, ``consumer.phone: ...``).
Here it only gets words: the Chinese headline of its status code, the Chinese label of the
field, and the node's own detail kept beside them. PERMISSION_DENIED and NOT_FOUND on a page
that names a ticket become a refusal page that says nothing of what was asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

from node.edge.client import CallError

HEADLINES: dict[str, str] = {
    "INVALID_ARGUMENT": "填写有误",
    "FAILED_PRECONDITION": "当前状态下不能进行此操作",
    "PERMISSION_DENIED": "无权进行此操作",
    "NOT_FOUND": "未找到",
    "UNAUTHENTICATED": "登录失败或登录已失效",
    "RESOURCE_EXHAUSTED": "请求过于频繁，请稍后再试",
    "UNAVAILABLE": "暂时无法连接服务节点，请稍后再试",
    "DEADLINE_EXCEEDED": "服务节点响应超时，请稍后再试",
    "ALREADY_EXISTS": "已存在",
}
"""The Chinese headline of each status code a page may meet; others read as ``OTHER``."""

OTHER = "操作未能完成"

FIELD_LABELS: dict[str, str] = {
    "ticket_id": "投诉编号",
    "code": "查询码",
    "credit_code": "统一社会信用代码",
    "user_id": "用户名",
    "officer_id": "工号",
    "password": "密码",
    "totp_code": "动态验证码",
    "method": "联系方式",
    "contacted_at": "联系时间",
    "result": "协商结果",
    "terms": "和解方案",
    "amount_fen": "金额",
    "reason": "理由",
    "note": "说明",
    "accept": "是否接受",
    "rating": "满意度",
    "comment": "意见",
    "request_id": "提交编号",
    "consumer.name": "姓名",
    "consumer.phone": "联系电话",
    "consumer.address": "地址",
    "respondent.name": "被投诉方名称",
    "respondent.credit_code": "被投诉方统一社会信用代码",
    "respondent.address": "被投诉方地址",
    "category": "商品或服务类别",
    "facts": "事实经过",
    "request": "诉求",
    "odr_green_channel": "ODR绿色通道",
    "period_start": "起始日期",
    "period_end": "截止日期",
}
"""The Chinese label of each field path a form sends (the form's input names are the paths)."""


@dataclass(frozen=True)
class Refusal:
    """What a page shows of a refused call.

    ``field`` is the field path the node named ('' when none); ``message`` the line shown
    (next to that field when the form has it, else at the top of the page).
    """

    code: str
    headline: str
    field: str
    label: str
    detail: str

    @property
    def message(self) -> str:
        """The Chinese line shown, with the node's own detail kept beside it."""
        if self.label:
            return f"{self.label}{self.headline}：{self.detail}"
        return f"{self.headline}：{self.detail}" if self.detail else self.headline

    @property
    def hides_the_ticket(self) -> bool:
        """True when the page must refuse without telling anything of what was asked for."""
        return self.code in ("PERMISSION_DENIED", "NOT_FOUND")


def field_of(detail: str) -> str:
    """The field path an INVALID_ARGUMENT detail starts with ('' when it names none)."""
    head, sep, _ = detail.partition(":")
    if not sep or not head or " " in head.strip():
        return ""
    return head.strip()


SIGN_IN_HEADLINES: dict[str, str] = {
    "UNAUTHENTICATED": "登录信息有误，请核对后重试",
    "PERMISSION_DENIED": "错误次数过多，已暂时锁定",
}
"""A sign-in form's own headlines: a refused sign-in is about what was typed, not a page."""


def refusal_of(error: CallError, headlines: dict[str, str] | None = None) -> Refusal:
    """How a page shows the node's refusal ``error`` (``headlines`` override the usual)."""
    headline = (headlines or {}).get(error.code) or HEADLINES.get(error.code, OTHER)
    field = field_of(error.message) if error.code == "INVALID_ARGUMENT" else ""
    detail = error.message
    if field:
        detail = error.message.partition(":")[2].strip()
    label = FIELD_LABELS.get(field, field)
    return Refusal(error.code, headline, field, label, detail)
