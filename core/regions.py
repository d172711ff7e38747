"""Administrative divisions (GB/T 2260) and the market-supervision units built on them.

Routing needs to know whether a respondent's region code is real and which county-level unit
it belongs to. The table here is the part of GB/T 2260 this deployment serves (the provinces of
the source articles: Gansu, Hunan, Hebei, Shandong, Shanghai, plus a few neighbours); an
administrator extends it with ``AdminService.RegisterUnit`` for any other division.
Stations (市场监管所) are not in GB/T 2260: each county registers its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from core.errors import InvalidInput
from core.limits import shown
from core.units import NATIONAL_CODE, Unit, UnitDirectory, UnitLevel, parent_of

_CODE = re.compile(r"^[1-9]\d{5}$")
_STATION_CODE = re.compile(r"^[1-9]\d{8}$")


@dataclass(frozen=True)
class Region:
    """One administrative division: its 6-digit code and its name."""

    code: str
    name: str

    @property
    def level(self) -> UnitLevel:
        """Province for ``xx0000``, city for ``xxxx00``, county otherwise."""
        if self.code.endswith("0000"):
            return UnitLevel.PROVINCE
        if self.code.endswith("00"):
            return UnitLevel.CITY
        return UnitLevel.COUNTY

    @property
    def parent_code(self) -> str:
        """The division directly above: county -> city, city -> province, province -> national."""
        return parent_of(self.code)


STANDARD_REGIONS: tuple[Region, ...] = tuple(
    Region(code, name)
    for code, name in (
        ("110000", "北京市"),
        ("110100", "北京市市辖区"),
        ("110101", "东城区"),
        ("110102", "西城区"),
        ("110105", "朝阳区"),
        ("110108", "海淀区"),
        ("130000", "河北省"),
        ("130400", "邯郸市"),
        ("130402", "邯山区"),
        ("130403", "丛台区"),
        ("130404", "复兴区"),
        ("130406", "峰峰矿区"),
        ("130407", "肥乡区"),
        ("130408", "永年区"),
        ("130423", "临漳县"),
        ("130424", "成安县"),
        ("130425", "大名县"),
        ("130426", "涉县"),
        ("130427", "磁县"),
        ("130430", "邱县"),
        ("130431", "鸡泽县"),
        ("130432", "广平县"),
        ("130433", "馆陶县"),
        ("130434", "魏县"),
        ("130435", "曲周县"),
        ("130481", "武安市"),
        ("310000", "上海市"),
        ("310100", "上海市市辖区"),
        ("310101", "黄浦区"),
        ("310104", "徐汇区"),
        ("310115", "浦东新区"),
        ("310117", "松江区"),
        ("330000", "浙江省"),
        ("330100", "杭州市"),
        ("330102", "上城区"),
        ("330105", "拱墅区"),
        ("330106", "西湖区"),
        ("330108", "滨江区"),
        ("370000", "山东省"),
        ("370100", "济南市"),
        ("370102", "历下区"),
        ("370103", "市中区"),
        ("370104", "槐荫区"),
        ("370105", "天桥区"),
        ("370112", "历城区"),
        ("370113", "长清区"),
        ("430000", "湖南省"),
        ("430100", "长沙市"),
        ("430102", "芙蓉区"),
        ("430103", "天心区"),
        ("430200", "株洲市"),
        ("430202", "荷塘区"),
        ("430203", "芦淞区"),
        ("430204", "石峰区"),
        ("430211", "天元区"),
        ("430212", "渌口区"),
        ("430223", "攸县"),
        ("430224", "茶陵县"),
        ("430225", "炎陵县"),
        ("430281", "醴陵市"),
        ("440000", "广东省"),
        ("440100", "广州市"),
        ("440103", "荔湾区"),
        ("440104", "越秀区"),
        ("440105", "海珠区"),
        ("440106", "天河区"),
        ("440111", "白云区"),
        ("620000", "甘肃省"),
        ("620100", "兰州市"),
        ("620102", "城关区"),
        ("620103", "七里河区"),
        ("620104", "西固区"),
        ("620105", "安宁区"),
        ("620111", "红古区"),
        ("620121", "永登县"),
        ("620122", "皋兰县"),
        ("620123", "榆中县"),
        ("620200", "嘉峪关市"),
        ("620300", "金昌市"),
        ("620302", "金川区"),
        ("620400", "白银市"),
        ("620402", "白银区"),
        ("620500", "天水市"),
        ("620502", "秦州区"),
        ("620503", "麦积区"),
        ("620700", "张掖市"),
        ("620702", "甘州区"),
        ("620900", "酒泉市"),
        ("620902", "肃州区"),
    )
)


def check_region_code_format(code: str, field: str) -> None:
    """Refuse anything that is not six digits with a non-zero first digit."""
    if not _CODE.match(code):
        raise InvalidInput(field, f"region code must be 6 digits (GB/T 2260), got {shown(code)}")


def check_station_code_format(code: str, field: str) -> None:
    """A station code is its county's 6-digit code plus a 3-digit suffix."""
    if not _STATION_CODE.match(code):
        raise InvalidInput(
            field, f"station code must be 9 digits (county code + 3), got {shown(code)}"
        )


def unit_name(region: Region, regions: dict[str, Region]) -> str:
    """The bureau's name: '兰州市城关区市场监督管理局' for 620102."""
    if region.level is UnitLevel.COUNTY:
        city = regions.get(region.parent_code)
        prefix = city.name if city and not city.name.endswith("市辖区") else ""
        return f"{prefix}{region.name}市场监督管理局"
    return f"{region.name}市场监督管理局"


def standard_units(
    regions: Iterable[Region] = STANDARD_REGIONS, stations: Iterable[Unit] = ()
) -> UnitDirectory:
    """The national administration, one unit per division, and the given stations."""
    by_code = {r.code: r for r in regions}
    units = [Unit(NATIONAL_CODE, "国家市场监督管理总局", UnitLevel.NATIONAL)]
    units.extend(
        Unit(r.code, unit_name(r, by_code), r.level, r.parent_code) for r in by_code.values()
    )
    units.extend(stations)
    return UnitDirectory(units)


def check_region_known(code: str, field: str, units: UnitDirectory) -> Unit:
    """The unit of a county-level (or county-less city) region, else ``InvalidInput``."""
    check_region_code_format(code, field)
    unit = units.find(code)
    if unit is None:
        raise InvalidInput(field, f"unknown region code {shown(code)}")
    if unit.level is UnitLevel.CITY and units.children(code):
        raise InvalidInput(field, f"{code} is a city with districts; name the county or district")
    if unit.level not in (UnitLevel.COUNTY, UnitLevel.CITY):
        raise InvalidInput(field, f"{code} is a {unit.level.value}; name the county or district")
    return unit
