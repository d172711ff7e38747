"""Realistic sample tickets and a small world of units and officers, for demos, tests and load.

The businesses, categories and complaints follow the kinds of cases in the source articles
(prepaid gyms and training schools that close, food safety, appliance quality, price gouging
in a crisis, platform shops). Every credit code is valid (its check character is computed),
so samples pass intake exactly as real input would.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from core.identifiers import CREDIT_CODE_ALPHABET, credit_code_check_character
from core.officers import Role
from core.ticket.commands import RegisterTicket
from core.ticket.vocabulary import (
    Channel,
    Consumer,
    Respondent,
    SourceLine,
    TicketKind,
)
from core.units import UnitLevel


def credit_code(region: str, serial: int) -> str:
    """A valid 18-character credit code for a company registered in ``region``."""
    body = "91" + region
    for _ in range(9):
        body += CREDIT_CODE_ALPHABET[serial % 31]
        serial //= 31
    return body + credit_code_check_character(body)


@dataclass(frozen=True)
class OfficerSpec:
    """An officer of the sample world."""

    officer_id: str
    name: str
    roles: tuple[Role, ...]


@dataclass(frozen=True)
class NodeSpec:
    """A node of the sample world: its name, level, unit, parent and officers."""

    name: str
    level: UnitLevel
    unit: str
    parent: str | None
    officers: tuple[OfficerSpec, ...]
    unit_name: str = ""


GANSU_WORLD: tuple[NodeSpec, ...] = (
    NodeSpec(
        "national",
        UnitLevel.NATIONAL,
        "100000",
        None,
        (OfficerSpec("100000-01", "陈立", (Role.DISPATCHER, Role.OPERATOR)),),
    ),
    NodeSpec(
        "province",
        UnitLevel.PROVINCE,
        "620000",
        "national",
        (
            OfficerSpec("620000-01", "王芳", (Role.OPERATOR, Role.DISPATCHER)),
            OfficerSpec("620000-02", "刘洋", (Role.OPERATOR, Role.SUPERVISOR)),
        ),
    ),
    NodeSpec(
        "city",
        UnitLevel.CITY,
        "620100",
        "province",
        (OfficerSpec("620100-01", "孙伟", (Role.DISPATCHER, Role.HANDLER)),),
    ),
    NodeSpec(
        "chengguan",
        UnitLevel.COUNTY,
        "620102",
        "city",
        (
            OfficerSpec("620102-07", "李强", (Role.HANDLER,)),
            OfficerSpec("620102-01", "赵敏", (Role.UNIT_HEAD,)),
        ),
    ),
    NodeSpec(
        "qilihe",
        UnitLevel.COUNTY,
        "620103",
        "city",
        (
            OfficerSpec("620103-05", "周杰", (Role.HANDLER,)),
            OfficerSpec("620103-01", "吴静", (Role.UNIT_HEAD,)),
        ),
    ),
    NodeSpec(
        "station",
        UnitLevel.STATION,
        "620102001",
        "chengguan",
        (OfficerSpec("620102001-03", "马丽", (Role.STATION_OFFICER,)),),
        unit_name="兰州市城关区市场监督管理局张掖路市场监管所",
    ),
)
"""One province, one city, two counties and a station, under the national level."""


def _ticket(
    kind: TicketKind,
    consumer: tuple[str, ...],
    respondent: Respondent,
    category: str,
    facts: str,
    request: str,
    amount_yuan: int,
    channel: Channel = Channel.PHONE,
    line: SourceLine = SourceLine.LINE_12315,
    incident_region: str = "",
    tags: tuple[str, ...] = (),
) -> RegisterTicket:
    return RegisterTicket(
        kind=kind,
        channel=channel,
        source_line=line,
        consumer=Consumer(*consumer),
        respondent=respondent,
        category=category,
        facts=facts,
        request=request,
        amount_fen=amount_yuan * 100,
        incident_region=incident_region,
        tags=tags,
    )


GYM = Respondent(
    "兰州金城健身俱乐部有限公司",
    credit_code("620102", 1001),
    address="城关区张掖路88号",
    operating_region="620102",
)
NOODLES = Respondent(
    "兰州马记牛肉面馆",
    credit_code("620103", 2002),
    address="七里河区西津西路12号",
    operating_region="620103",
)
APPLIANCES = Respondent(
    "甘肃恒通电器销售有限公司",
    credit_code("620102", 3003),
    address="城关区东岗西路200号",
    operating_region="620102",
)
PHARMACY = Respondent(
    "七里河区康宁大药房",
    credit_code("620103", 4004),
    address="七里河区建兰路5号",
    operating_region="620103",
)
SUPERMARKET = Respondent(
    "兰州惠民超市有限公司",
    credit_code("620102", 5005),
    address="城关区庆阳路31号",
    operating_region="620102",
)
SCHOOL = Respondent(
    "兰州启明教育培训学校",
    credit_code("620103", 6006),
    address="七里河区敦煌路66号",
    operating_region="620103",
)
FURNITURE = Respondent(
    "株洲美居家具有限公司",
    credit_code("430202", 7007),
    address="荷塘区新华路9号",
    operating_region="430202",
)


def demo_tickets() -> list[tuple[str, RegisterTicket]]:
    """The demo's tickets, each with a short label."""
    return [
        (
            "gym",
            _ticket(
                TicketKind.COMPLAINT,
                ("张伟", "13909310001", "城关区庆阳路甲1号3单元502室", "620102198503120427"),
                GYM,
                "预付式消费/健身",
                "健身房突然停业，会员卡余额3000元无法退还，门店已贴出转让告示。",
                "退还预付卡余额3000元",
                3000,
            ),
        ),
        (
            "noodles",
            _ticket(
                TicketKind.COMPLAINT,
                ("王秀英", "13809312002", "七里河区西站东路17号2单元301室"),
                NOODLES,
                "餐饮服务",
                "在店内就餐后全家三人腹泻，怀疑食材不新鲜。",
                "赔偿医药费并道歉",
                860,
                line=SourceLine.LINE_12331,
            ),
        ),
        (
            "fridge",
            _ticket(
                TicketKind.COMPLAINT,
                ("李娜", "0931-8612345", "城关区东岗东路1208号5楼", "620102197811022648"),
                APPLIANCES,
                "家用电器/冰箱",
                "新买的冰箱一周后不制冷，商家拒绝退换。",
                "更换新机",
                4599,
                channel=Channel.WECHAT,
                line=SourceLine.LINE_12365,
            ),
        ),
        (
            "masks",
            _ticket(
                TicketKind.REPORT,
                ("刘晓阳", "13609313004", "七里河区建兰路56号6单元1102室", "620103199007251533"),
                PHARMACY,
                "药品/价格",
                "口罩每包售价从5元涨到48元，明显哄抬价格。",
                "依法查处",
                0,
                line=SourceLine.LINE_12358,
                incident_region="620103",
                tags=("新冠疫情",),
            ),
        ),
        (
            "expired",
            _ticket(
                TicketKind.COMPOSITE,
                ("陈静", "13509314005", "城关区雁滩路3355号11幢"),
                SUPERMARKET,
                "食品/预包装食品",
                "购买的牛奶已过保质期两周仍在货架销售，要求退款并举报。",
                "退款并查处",
                52,
            ),
        ),
        (
            "school",
            _ticket(
                TicketKind.COMPLAINT,
                ("杨磊", "13409315006", "七里河区敦煌路401号4单元201室", "620103199212303750"),
                SCHOOL,
                "预付式消费/教育培训",
                "培训学校停课两个月，剩余课时费6800元不退。",
                "退还剩余课时费",
                6800,
                channel=Channel.WEB,
            ),
        ),
        (
            "sofa",
            _ticket(
                TicketKind.COMPLAINT,
                ("黄强", "13309316007", "城关区南昌路1566号8单元702室", "62010219880615486X"),
                FURNITURE,
                "家具",
                "网购沙发到货开裂，株洲商家不予处理。",
                "退货退款",
                2600,
                channel=Channel.WEB,
            ),
        ),
        (
            "refund-policy",
            _ticket(
                TicketKind.CONSULTATION,
                ("周敏", "13209317008"),
                Respondent(""),
                "咨询/预付卡",
                "预付卡商家跑路后，消费者可以通过哪些途径维权？",
                "",
                0,
            ),
        ),
    ]


SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明")
CATEGORIES = ("预付式消费/健身", "餐饮服务", "家用电器", "食品/预包装食品", "教育培训", "药品")
FACTS = (
    "商家停业后预付卡余额无法退还。",
    "购买的商品存在质量问题，商家拒绝退换。",
    "就餐后身体不适，怀疑食品不卫生。",
    "商品标价与结算价格不一致。",
    "培训机构停课后不退剩余费用。",
)


SHOPS = ("超市", "餐馆", "家电行", "药房", "健身馆", "培训学校", "服装店", "手机店")
DISTRICTS = {"620102": "城关区", "620103": "七里河区"}


def random_business(rng: random.Random) -> Respondent:
    """One of 2,000 plausible businesses of Chengguan or Qilihe.

    Spread wide on purpose: a surge of routine calls against a handful of businesses would
    make every load test a group complaint (5 consumers against one business in 7 days,
    ``core.incidents``), which real routine traffic is not.
    """
    region = rng.choice(tuple(DISTRICTS))
    serial = rng.randrange(10_000, 12_000)
    return Respondent(
        f"兰州{serial}号{SHOPS[serial % len(SHOPS)]}",
        credit_code(region, serial),
        address=f"{DISTRICTS[region]}示范路{serial % 300 + 1}号",
        operating_region=region,
    )


def random_ticket(rng: random.Random) -> RegisterTicket:
    """A plausible random complaint, for load tests."""
    name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(("", *GIVEN))
    phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
    return _ticket(
        TicketKind.COMPLAINT,
        (name, phone),
        random_business(rng),
        rng.choice(CATEGORIES),
        rng.choice(FACTS) + f"（单号{rng.randrange(10**8)}）",
        "退款",
        rng.randrange(50, 5000),
        channel=rng.choice((Channel.PHONE, Channel.WEB, Channel.WECHAT)),
    )


__all__ = ["GANSU_WORLD", "NodeSpec", "OfficerSpec", "credit_code", "demo_tickets", "random_ticket"]
