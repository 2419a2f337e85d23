"""Demo filings: a realistic, reproducible queue for trying the tool and for benchmarks.

Every filing is built the way staff would have built it: submitted, then moved stage by stage
with the domain's own transitions (`advance`, `withdraw`, `add_note`, `record_ticket`,
`assign`), by members of staff, mostly in business hours, at times that increase up to `now`.
So each history passes the same checks as a stored filing.

The first filings follow a fixed list of scenarios, one per (stage, health) pair that can
occur, so that any demo of 20 filings or more shows every stage and every SLA health as of
`now`; the rest are drawn at random, about 80 % still active.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial
from itertools import accumulate

from icp_tui.domain.collector import gc_paused
from icp_tui.domain.filing import BEIJING, EntityType, Filing, Transition
from icp_tui.domain.provinces import Province, ProvinceTable
from icp_tui.domain.sla import Health, SlaPolicy, sla_times
from icp_tui.domain.stages import (
    ALIBABA_CLOUD_REVIEW,
    CLOSED,
    HAPPY_PATH,
    WITHDRAW_REASONS,
    Stage,
)
from icp_tui.domain.transitions import (
    add_note,
    advance,
    assign,
    record_materials,
    record_ticket,
    withdraw,
)

S = Stage

#: Staff user names (the operating-system users who run the tool).
STAFF: tuple[str, ...] = ("linyu", "zhaomin", "chenhao", "wangjing", "liuyang", "sunqi")

OPEN = time(9, 0)
CLOSE = time(18, 0)
OFFICE_HOURS = timedelta(hours=9)
MINUTE = timedelta(minutes=1)

# -- places and names --------------------------------------------------------------------------

# (Chinese, pinyin, domain prefix) of a few cities per province.
City = tuple[str, str, str]
_PLACES: dict[str, tuple[str, tuple[City, ...]]] = {
    "Beijing": ("京", (("北京", "Beijing", "bj"),)),
    "Tianjin": ("津", (("天津", "Tianjin", "tj"),)),
    "Shanghai": ("沪", (("上海", "Shanghai", "sh"),)),
    "Chongqing": ("渝", (("重庆", "Chongqing", "cq"),)),
    "Hebei": ("冀", (("石家庄", "Shijiazhuang", "sjz"), ("保定", "Baoding", "bd"))),
    "Shanxi": ("晋", (("太原", "Taiyuan", "ty"), ("大同", "Datong", "dt"))),
    "Liaoning": ("辽", (("沈阳", "Shenyang", "sy"), ("大连", "Dalian", "dl"))),
    "Jilin": ("吉", (("长春", "Changchun", "cc"), ("吉林", "Jilin", "jl"))),
    "Heilongjiang": ("黑", (("哈尔滨", "Harbin", "hrb"), ("大庆", "Daqing", "dq"))),
    "Jiangsu": (
        "苏",
        (("南京", "Nanjing", "nj"), ("苏州", "Suzhou", "su"), ("无锡", "Wuxi", "wx")),
    ),
    "Zhejiang": (
        "浙",
        (
            ("杭州", "Hangzhou", "hz"),
            ("宁波", "Ningbo", "nb"),
            ("温州", "Wenzhou", "wz"),
            ("金华", "Jinhua", "jh"),
        ),
    ),
    "Anhui": ("皖", (("合肥", "Hefei", "hf"), ("芜湖", "Wuhu", "wh"))),
    "Fujian": (
        "闽",
        (("福州", "Fuzhou", "fz"), ("厦门", "Xiamen", "xm"), ("泉州", "Quanzhou", "qz")),
    ),
    "Jiangxi": ("赣", (("南昌", "Nanchang", "nc"), ("赣州", "Ganzhou", "ganz"))),
    "Shandong": (
        "鲁",
        (("济南", "Jinan", "jn"), ("青岛", "Qingdao", "qd"), ("烟台", "Yantai", "yt")),
    ),
    "Henan": ("豫", (("郑州", "Zhengzhou", "zz"), ("洛阳", "Luoyang", "ly"))),
    "Hubei": ("鄂", (("武汉", "Wuhan", "wh"), ("宜昌", "Yichang", "yc"))),
    "Hunan": ("湘", (("长沙", "Changsha", "cs"), ("株洲", "Zhuzhou", "zhz"))),
    "Guangdong": (
        "粤",
        (
            ("深圳", "Shenzhen", "sz"),
            ("广州", "Guangzhou", "gz"),
            ("东莞", "Dongguan", "dg"),
            ("佛山", "Foshan", "fs"),
            ("珠海", "Zhuhai", "zh"),
        ),
    ),
    "Hainan": ("琼", (("海口", "Haikou", "hk"), ("三亚", "Sanya", "sanya"))),
    "Sichuan": ("蜀", (("成都", "Chengdu", "cd"), ("绵阳", "Mianyang", "my"))),
    "Guizhou": ("黔", (("贵阳", "Guiyang", "gy"), ("遵义", "Zunyi", "zy"))),
    "Yunnan": ("滇", (("昆明", "Kunming", "km"), ("大理", "Dali", "dali"))),
    "Shaanxi": ("陕", (("西安", "Xi'an", "xa"), ("宝鸡", "Baoji", "bj"))),
    "Gansu": ("陇", (("兰州", "Lanzhou", "lz"), ("天水", "Tianshui", "ts"))),
    "Qinghai": ("青", (("西宁", "Xining", "xn"),)),
    "Inner Mongolia": ("蒙", (("呼和浩特", "Hohhot", "hhht"), ("包头", "Baotou", "bt"))),
    "Guangxi": (
        "桂",
        (("南宁", "Nanning", "nn"), ("桂林", "Guilin", "gl"), ("柳州", "Liuzhou", "lz")),
    ),
    "Tibet": ("藏", (("拉萨", "Lhasa", "ls"),)),
    "Ningxia": ("宁", (("银川", "Yinchuan", "yc"),)),
    "Xinjiang": ("新", (("乌鲁木齐", "Urumqi", "wlmq"),)),
}
# Where most filings come from; every other province weighs 1.
_PROVINCE_WEIGHTS = {
    "Guangdong": 16,
    "Zhejiang": 12,
    "Beijing": 11,
    "Shanghai": 11,
    "Jiangsu": 9,
    "Shandong": 3,
    "Fujian": 3,
    "Sichuan": 3,
    "Hubei": 2,
    "Henan": 2,
}
# (Chinese, pinyin, English) trade names.
_TRADE_NAMES: tuple[tuple[str, str, str], ...] = (
    ("星云", "xingyun", "Nebula"),
    ("蓝海", "lanhai", "Bluewave"),
    ("绿叶", "lvye", "Greenleaf"),
    ("云帆", "yunfan", "Cloudsail"),
    ("晨光", "chenguang", "Morninglight"),
    ("华信", "huaxin", "Huaxin"),
    ("启明", "qiming", "Dawnstar"),
    ("远航", "yuanhang", "Farvoyage"),
    ("博雅", "boya", "Boya"),
    ("易达", "yida", "Easyreach"),
    ("锦程", "jincheng", "Brightway"),
    ("金桥", "jinqiao", "Goldbridge"),
    ("创维", "chuangwei", "Createway"),
    ("新禾", "xinhe", "Newgrain"),
    ("鼎盛", "dingsheng", "Dingsheng"),
    ("乐享", "lexiang", "Joyshare"),
    ("优品", "youpin", "Goodgoods"),
    ("青松", "qingsong", "Greenpine"),
    ("海纳", "haina", "Oceanwide"),
    ("明德", "mingde", "Mingde"),
    ("飞鱼", "feiyu", "Flyingfish"),
    ("速维", "suwei", "Swiftdim"),
    ("知行", "zhixing", "Knowdo"),
    ("万象", "wanxiang", "Myriad"),
    ("众合", "zhonghe", "Unity"),
    ("嘉禾", "jiahe", "Goodharvest"),
    ("朗月", "langyue", "Brightmoon"),
    ("匠心", "jiangxin", "Craftheart"),
    ("山川", "shanchuan", "Mountainriver"),
)
# (Chinese, English, domain word) lines of business.
_INDUSTRIES: tuple[tuple[str, str, str], ...] = (
    ("科技", "Technology", "tech"),
    ("网络科技", "Network Technology", "net"),
    ("信息技术", "Information Technology", "it"),
    ("电子商务", "E-commerce", "shop"),
    ("软件", "Software", "soft"),
    ("文化传媒", "Culture Media", "media"),
    ("贸易", "Trading", "trade"),
    ("餐饮管理", "Catering Management", "food"),
    ("教育科技", "Education Technology", "edu"),
    ("数据服务", "Data Services", "data"),
    ("设计", "Design", "design"),
    ("物流", "Logistics", "logistics"),
)
_SURNAMES: tuple[tuple[str, str], ...] = (
    ("王", "Wang"),
    ("李", "Li"),
    ("张", "Zhang"),
    ("刘", "Liu"),
    ("陈", "Chen"),
    ("杨", "Yang"),
    ("黄", "Huang"),
    ("赵", "Zhao"),
    ("吴", "Wu"),
    ("周", "Zhou"),
    ("徐", "Xu"),
    ("孙", "Sun"),
    ("马", "Ma"),
    ("朱", "Zhu"),
    ("胡", "Hu"),
    ("郭", "Guo"),
    ("何", "He"),
    ("林", "Lin"),
    ("高", "Gao"),
    ("罗", "Luo"),
)
_GIVEN_NAMES: tuple[tuple[str, str], ...] = (
    ("芳", "Fang"),
    ("建国", "Jianguo"),
    ("伟", "Wei"),
    ("秀英", "Xiuying"),
    ("娜", "Na"),
    ("敏", "Min"),
    ("静", "Jing"),
    ("强", "Qiang"),
    ("磊", "Lei"),
    ("军", "Jun"),
    ("洋", "Yang"),
    ("艳", "Yan"),
    ("杰", "Jie"),
    ("涛", "Tao"),
    ("明", "Ming"),
    ("晓东", "Xiaodong"),
    ("子涵", "Zihan"),
    ("浩然", "Haoran"),
    ("雨桐", "Yutong"),
    ("思远", "Siyuan"),
    ("志强", "Zhiqiang"),
    ("丽华", "Lihua"),
)

# -- reasons and notes -------------------------------------------------------------------------

_RETURN_REASONS = {
    S.PRELIMINARY_REVIEW: (
        "website name does not meet the naming rules",
        "business licence scan is unclear",
        "domain holder does not match the entity",
        "ID card of the responsible person has expired",
        "contact phone number could not be verified",
        "website description incomplete",
    ),
    S.PHOTO_REVIEW: (
        "photo background is not the plain backdrop required",
        "face in the photo does not match the ID card",
        "photo is blurred",
        "photo shows more than one person",
    ),
    S.SMS_VERIFICATION: ("SMS check not completed within 24 hours",),
}
_REJECT_REASONS = (
    "website name does not match the entity's business scope",
    "entity details differ from the national enterprise credit record",
    "domain registered to a different holder",
    "pre-approval for a regulated service is missing",
)
_OTHER_WITHDRAW = (
    "other: moving the website to another hosting provider",
    "other: entity being renamed, will file again",
    "other: project cancelled",
)
_NOTES = {
    S.PRELIMINARY_REVIEW: (
        "Applicant asked how long the preliminary review takes; told them one business day.",
        "Business licence checked against the credit record, matches.",
    ),
    S.RETURNED: (
        "Explained the correction by phone; applicant will resubmit this week.",
        "Applicant is waiting for a new business licence scan.",
        "Sent the naming rules for website names by email.",
    ),
    S.AWAITING_PHOTO: (
        "Reminded the applicant by phone to upload the administrator photo.",
        "Applicant will take the photo at the weekend.",
        "Applicant asked where to mail the materials; sent the mailing address.",
    ),
    S.PHOTO_REVIEW: ("Photo looks fine at first glance; checking the ID card details.",),
    S.AWAITING_SUBMISSION: ("Ready to submit; waiting for the afternoon batch.",),
    S.SMS_VERIFICATION: (
        "Reminded the applicant: the SMS check must be done within 24 hours.",
        "Applicant did not receive the SMS; asked them to check the phone number on file.",
    ),
    S.AUTHORITY_REVIEW: (
        "Applicant asked for an expected date; explained the administration's review time.",
        "Applicant asked whether the website may go online already: not before approval.",
    ),
    S.APPROVED: ("ICP number sent to the applicant by email.",),
    S.REJECTED: ("Called the applicant to explain the rejection and how to resubmit.",),
    S.WITHDRAWN: ("Applicant confirmed the withdrawal by email.",),
}
# Numbers people add to a domain that is taken: lucky ones and years.
_LUCKY = ("8", "88", "666", "168", "365", "520", "888", "1688", "2025", "2026", "007", "123")
_ESCALATION_NOTE = "Alibaba Cloud review over 3 business days: asked the ICP Filing team."


# -- scenarios ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scenario:
    """Where a demo filing should stand at `now`, and what its history should show."""

    stage: Stage
    health: Health
    every_stage: bool = False  # returned once, then all the way to approved
    escalated: bool = False  # over 3 bd of Alibaba Cloud review since submission
    ticket: bool | None = None  # None: at random


H = Health
#: One filing per (stage, health) pair that can occur; each stage and health early on.
SCENARIOS: tuple[Scenario, ...] = (
    Scenario(S.PRELIMINARY_REVIEW, H.BREACHED, escalated=True, ticket=False),
    Scenario(S.APPROVED, H.DONE, every_stage=True),
    Scenario(S.AUTHORITY_REVIEW, H.AT_RISK),
    Scenario(S.SMS_VERIFICATION, H.ON_TRACK),
    Scenario(S.AWAITING_PHOTO, H.WAITING),
    Scenario(S.RETURNED, H.WAITING),
    Scenario(S.PHOTO_REVIEW, H.ON_TRACK),
    Scenario(S.AWAITING_SUBMISSION, H.AT_RISK),
    Scenario(S.REJECTED, H.DONE),
    Scenario(S.WITHDRAWN, H.DONE),
    Scenario(S.PHOTO_REVIEW, H.BREACHED, escalated=True, ticket=True),
    Scenario(S.AUTHORITY_REVIEW, H.ON_TRACK),
    Scenario(S.SMS_VERIFICATION, H.BREACHED),
    Scenario(S.PRELIMINARY_REVIEW, H.ON_TRACK),
    Scenario(S.AUTHORITY_REVIEW, H.BREACHED),
    Scenario(S.SMS_VERIFICATION, H.AT_RISK),
    Scenario(S.PRELIMINARY_REVIEW, H.AT_RISK),
    Scenario(S.PHOTO_REVIEW, H.AT_RISK),
    Scenario(S.AWAITING_SUBMISSION, H.ON_TRACK),
    Scenario(S.AWAITING_SUBMISSION, H.BREACHED),
)

# Random filings: about 80 % active, 20 % closed.
_STAGE_WEIGHTS: dict[Stage, int] = {
    S.PRELIMINARY_REVIEW: 12,
    S.RETURNED: 7,
    S.AWAITING_PHOTO: 12,
    S.PHOTO_REVIEW: 8,
    S.AWAITING_SUBMISSION: 6,
    S.SMS_VERIFICATION: 6,
    S.AUTHORITY_REVIEW: 29,
    S.APPROVED: 13,
    S.REJECTED: 2,
    S.WITHDRAWN: 5,
}
_RUNNING = (H.ON_TRACK, H.AT_RISK, H.BREACHED)
_RUNNING_WEIGHTS = (60, 25, 15)


def generate_filings(
    count: int,
    now: datetime,
    policy: SlaPolicy,
    provinces: ProvinceTable,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> list[Filing]:
    """`count` demo filings as of `now`, ordered by id; the same for the same arguments.

    With 20 filings or more, every stage and every SLA health occurs, at least one filing needs
    escalation and has no ticket yet, and one went through every stage to approval.
    """
    if count < 0:
        raise ValueError("count must not be negative")
    if now.tzinfo is None:
        raise ValueError("now must have a time zone")
    if not provinces.provinces:
        raise ValueError("the province table is empty")
    # Tens of thousands of small objects and no cycles: the collector would only slow this down.
    with gc_paused():
        return _generate(count, now, policy, provinces, seed, progress)


def _generate(
    count: int,
    now: datetime,
    policy: SlaPolicy,
    provinces: ProvinceTable,
    seed: int,
    progress: Callable[[int, int], None] | None,
) -> list[Filing]:
    rng = random.Random(seed)
    maker = _DemoMaker(rng, now.astimezone(BEIJING), policy, provinces)
    plans = [
        maker.plan(SCENARIOS[i] if i < len(SCENARIOS) else maker.random_scenario())
        for i in range(count)
    ]
    # Ids follow the order of first submission: ICP-<year>-<sequence in that year>.
    plans.sort(key=lambda plan: plan.times[0])
    sequence: dict[int, int] = {}
    filings = []
    for plan in plans:
        year = plan.times[0].year
        sequence[year] = sequence.get(year, 0) + 1
        filings.append(maker.build(plan, f"ICP-{year}-{sequence[year]:05d}"))
        if progress is not None and (len(filings) % 1000 == 0 or len(filings) == count):
            progress(len(filings), count)
    return filings


class _BusinessHours:
    """Times in business hours on business days before `now`, by counting business days back."""

    def __init__(self, rng: random.Random, policy: SlaPolicy, now: datetime) -> None:
        self.rng = rng
        self.now = now
        today = now.date()
        # Deep enough for the oldest demo history (a few hundred business days).
        self.first = today - timedelta(days=6 * 366)
        self.days = policy.calendar.business_days_between(self.first, today)
        # For each date of the window: index in `days` of the last business day on or before it.
        self.index_of: list[int] = []
        i = -1
        for ordinal in range(self.first.toordinal(), today.toordinal() + 1):
            while i + 1 < len(self.days) and self.days[i + 1].toordinal() <= ordinal:
                i += 1
            self.index_of.append(i)
        self.opens = [datetime.combine(day, OPEN, BEIJING) for day in self.days]

    def index(self, day: date) -> int:
        return self.index_of[day.toordinal() - self.first.toordinal()]

    def between(self, lo: datetime, hi: datetime) -> datetime:
        """A whole minute in [lo, hi] (lo itself if the span is under a minute)."""
        minutes = int((hi - lo).total_seconds() // 60)
        return lo + timedelta(minutes=int(self.rng.random() * (max(0, minutes) + 1)))

    def back(self, moment: datetime, k: int) -> datetime:
        """A business-hours time on the k-th business day before `moment`'s date (0: that day
        or the last business day before it), strictly before `moment`."""
        i = max(0, self.index(moment.date()) - k)
        while True:
            lo = self.opens[i]
            hi = lo + OFFICE_HOURS
            if hi >= moment:
                hi = moment - MINUTE
            if hi > lo or i == 0:
                return self.between(lo, max(lo, hi))
            i -= 1

    def in_hours_before(self, moment: datetime) -> datetime:
        """`moment` if it falls in business hours on a business day, else a business-hours
        time before it (people submit in office hours)."""
        day = moment.date()
        if self.days[self.index(day)] == day and OPEN <= moment.time() < CLOSE:
            return moment.replace(second=0, microsecond=0)
        return self.back(moment, 0)

    def office_time(self, lo: datetime, hi: datetime) -> datetime:
        """A whole-minute time in [lo, hi], in business hours where the span allows it."""
        moment = self.between(lo, hi)
        in_hours = self.in_hours_before(moment)
        return in_hours if in_hours >= lo else moment

    def entered_with_elapsed(self, used: int) -> datetime:
        """A time at which a stage entered leaves `used` business days elapsed at `now`."""
        day = self.days[max(0, self.index(self.now.date()) - used)]
        lo = datetime.combine(day, OPEN, BEIJING)
        hi = min(datetime.combine(day, CLOSE, BEIJING), self.now - 5 * MINUTE)
        if hi <= lo:  # today, before opening: an early start
            lo = datetime.combine(day, time(0), BEIJING)
            hi = max(lo, self.now - MINUTE)
        return self.between(lo, hi)


@dataclass(frozen=True, slots=True)
class _Entity:
    name: str
    kind: EntityType
    domain_stem: str
    domain_words: tuple[str, str]  # a short prefix and a word, to vary the domain


@dataclass(frozen=True, slots=True)
class _Plan:
    scenario: Scenario
    province: Province
    entity: _Entity
    domain: str
    path: list[Stage]
    times: list[datetime]


class _DemoMaker:
    """Builds demo filings one by one; all randomness comes from one seeded generator."""

    def __init__(
        self, rng: random.Random, now: datetime, policy: SlaPolicy, provinces: ProvinceTable
    ) -> None:
        self.rng = rng
        self.now = now
        self.policy = policy
        self.hours = _BusinessHours(rng, policy, now)
        self.provinces: Sequence[Province] = provinces.provinces
        self.province_cum = list(
            accumulate(_PROVINCE_WEIGHTS.get(p.name, 1) for p in self.provinces)
        )
        self.domains: set[str] = set()
        self.icp_sequence: dict[tuple[str, int], int] = {}
        self.tickets = 0
        self.stages = list(_STAGE_WEIGHTS)
        self.stage_cum = list(accumulate(_STAGE_WEIGHTS.values()))

    # -- choices ----------------------------------------------------------------------------

    def random_scenario(self) -> Scenario:
        stage = self.rng.choices(self.stages, cum_weights=self.stage_cum)[0]
        if stage in CLOSED:
            return Scenario(stage, H.DONE)
        if stage in (S.RETURNED, S.AWAITING_PHOTO):
            return Scenario(stage, H.WAITING)
        return Scenario(stage, self.rng.choices(_RUNNING, _RUNNING_WEIGHTS)[0])

    def staff(self, assignee: str | None) -> str:
        if assignee and self.rng.random() < 0.7:
            return assignee
        return self.rng.choice(STAFF)

    # -- one filing -------------------------------------------------------------------------

    def plan(self, scenario: Scenario) -> _Plan:
        """Who applies, for what, and when the filing entered each stage."""
        province = self.rng.choices(self.provinces, cum_weights=self.province_cum)[0]
        entity = self.entity(province)
        path = self.path(scenario)
        return _Plan(
            scenario,
            province,
            entity,
            self.domain(entity),
            path,
            self.times(path, scenario, province),
        )

    def build(self, plan: _Plan, filing_id: str) -> Filing:
        """The filing submitted and moved along `plan` by staff, with notes and a ticket."""
        rng = self.rng
        province, path, times = plan.province, plan.path, plan.times
        assignee = rng.choice(STAFF) if rng.random() < 0.8 else None
        by = self.staff(assignee)
        filing = Filing(
            id=filing_id,
            domain=plan.domain,
            entity=plan.entity.name,
            entity_type=plan.entity.kind,
            province=province.name,
            stage=S.PRELIMINARY_REVIEW,
            entered_at=times[0],
            submitted_at=times[0],
            history=(
                Transition(times[0], by, None, S.PRELIMINARY_REVIEW, "submitted by the applicant"),
            ),
            updated_at=times[0],
            updated_by=by,
        )
        events: list[tuple[datetime, int, Callable[[Filing], Filing]]] = []
        for i in range(1, len(path)):
            events.append((times[i], i, self.move(path, i, times[i], province, assignee)))
        if assignee:
            at = max(times[0], min(times[0] + timedelta(minutes=rng.randint(5, 240)), self.now))
            lead = rng.choice(STAFF)
            events.append((at, 0, partial(assign, at=at, by=lead, assignee=assignee)))
        if province.requires_mailing:
            events.extend(self.mailing(path, times, assignee))
        events.sort(key=lambda e: (e[0], e[1]))
        for _, _, apply in events:
            filing = apply(filing)
        return self.annotate(filing, plan.scenario, assignee)

    def move(
        self, path: list[Stage], i: int, at: datetime, province: Province, assignee: str | None
    ) -> Callable[[Filing], Filing]:
        """The transition into path[i], as a member of staff recorded it."""
        rng = self.rng
        source, target = path[i - 1], path[i]
        by = self.staff(assignee)
        if target is S.WITHDRAWN:
            reason = rng.choice(WITHDRAW_REASONS)
            if reason == "other":
                reason = rng.choice(_OTHER_WITHDRAW)
            return lambda f: withdraw(f, at, by, reason)
        icp_number = None
        if target is S.RETURNED:
            reason = rng.choice(_RETURN_REASONS[source])
        elif target is S.REJECTED:
            reason = rng.choice(_REJECT_REASONS)
        elif target is S.PRELIMINARY_REVIEW:
            reason = (
                "resubmitted after the administration's rejection"
                if source is S.REJECTED
                else "resubmitted with corrections"
            )
        elif target is S.APPROVED:
            icp_number = self.icp_number(province, at)
            reason = f"approved by the communications administration: {icp_number}"
        else:
            reason = _FORWARD_REASONS[target].format(province=province.name)
        return lambda f: advance(f, at, by, target, reason, icp_number=icp_number)

    def mailing(
        self, path: list[Stage], times: list[datetime], assignee: str | None
    ) -> list[tuple[datetime, int, Callable[[Filing], Filing]]]:
        """Materials mailed, then received, while the filing waits for the photo."""
        events: list[tuple[datetime, int, Callable[[Filing], Filing]]] = []
        for i, stage in enumerate(path):
            if stage is not S.AWAITING_PHOTO:
                continue
            start = times[i]
            end = times[i + 1] if i + 1 < len(path) else self.now
            last = i + 1 == len(path)
            if last and self.rng.random() < 0.4:
                continue  # not mailed yet
            mailed = self.hours.office_time(start, start + (end - start) * 0.4)
            received = self.hours.office_time(start + (end - start) * 0.5, end)
            by, by2 = self.staff(assignee), self.staff(assignee)
            # The domain's own change, so the history says who recorded them and when.
            events.append(
                (mailed, 100 + i, partial(record_materials, at=mailed, by=by, received=False))
            )
            if not last or self.rng.random() < 0.4:
                events.append(
                    (
                        received,
                        101 + i,
                        partial(record_materials, at=received, by=by2, received=True),
                    )
                )
        return events

    def annotate(self, filing: Filing, scenario: Scenario, assignee: str | None) -> Filing:
        """Ticket (for an escalated filing) and notes, during the current stage."""
        rng = self.rng
        lower = filing.updated_at or filing.entered_at
        if lower >= self.now:
            return filing
        later: list[tuple[datetime, Callable[[Filing], Filing]]] = []
        if filing.stage in ALIBABA_CLOUD_REVIEW:
            escalate_at = sla_times(filing, self.policy).escalate_at
            wanted = rng.random() < 0.5 if scenario.ticket is None else scenario.ticket
            if escalate_at <= self.now.timestamp() and wanted:
                start = datetime.fromtimestamp(max(lower.timestamp(), escalate_at), BEIJING)
                at = self.hours.office_time(start, self.now)
                by = self.staff(assignee)
                self.tickets += 1
                ticket = f"TK{at:%Y%m%d}{self.tickets:05d}"
                text = f"{_ESCALATION_NOTE} Ticket {ticket}."
                later.append((at, partial(record_ticket, at=at, by=by, ticket=ticket)))
                later.append((at, partial(add_note, at=at, by=by, text=text)))
        if rng.random() < 0.2:
            for _ in range(rng.randint(1, 2)):
                at = self.hours.office_time(lower, self.now)
                by = self.staff(assignee)
                text = rng.choice(_NOTES[filing.stage])
                later.append((at, partial(add_note, at=at, by=by, text=text)))
        later.sort(key=lambda e: e[0])
        for _, apply in later:
            filing = apply(filing)
        return filing

    # -- history ----------------------------------------------------------------------------

    def path(self, scenario: Scenario) -> list[Stage]:
        """The stages the filing went through, from its first submission to `scenario.stage`."""
        rng = self.rng
        final = scenario.stage
        prefix: list[Stage] = []
        roll = rng.random()
        if scenario.every_stage or roll < 0.10:
            prefix = [S.PRELIMINARY_REVIEW, S.RETURNED]
        elif roll < 0.15:
            prefix = [*HAPPY_PATH[:3], S.RETURNED]
        elif roll < 0.17:
            prefix = [*HAPPY_PATH[:5], S.RETURNED]
        elif roll < 0.19:
            prefix = [*HAPPY_PATH[:6], S.REJECTED]
        if scenario.escalated:
            prefix = []  # keep all review days since the one submission
        if final in HAPPY_PATH:
            main = list(HAPPY_PATH[: HAPPY_PATH.index(final) + 1])
        elif final is S.RETURNED:
            source = rng.choices(
                (S.PRELIMINARY_REVIEW, S.PHOTO_REVIEW, S.SMS_VERIFICATION), (50, 35, 15)
            )[0]
            main = [*HAPPY_PATH[: HAPPY_PATH.index(source) + 1], S.RETURNED]
        elif final is S.REJECTED:
            main = [*HAPPY_PATH[:6], S.REJECTED]
        else:
            source = rng.choices(
                (
                    S.PRELIMINARY_REVIEW,
                    S.RETURNED,
                    S.AWAITING_PHOTO,
                    S.PHOTO_REVIEW,
                    S.AWAITING_SUBMISSION,
                ),
                (25, 20, 35, 10, 10),
            )[0]
            if source is S.RETURNED:
                main = [S.PRELIMINARY_REVIEW, S.RETURNED, S.WITHDRAWN]
            else:
                main = [*HAPPY_PATH[: HAPPY_PATH.index(source) + 1], S.WITHDRAWN]
        return prefix + main

    def times(self, path: list[Stage], scenario: Scenario, province: Province) -> list[datetime]:
        """When the filing entered each stage of `path`: the last as the scenario needs, the
        others counted back from it, stage by stage."""
        rng = self.rng
        hours = self.hours
        times = [self.final_entry(scenario, province)]
        for i in range(len(path) - 2, -1, -1):
            stage, following, later = path[i], path[i + 1], times[-1]
            if stage is S.SMS_VERIFICATION:
                if following is S.RETURNED:
                    waited = rng.uniform(self.policy.sms_hours + 0.5, 2 * self.policy.sms_hours)
                else:
                    waited = rng.uniform(0.3, 20)
                times.append(hours.in_hours_before(later - timedelta(hours=waited)))
                continue
            if stage in ALIBABA_CLOUD_REVIEW:
                days = 0 if scenario.escalated else rng.choice((0, 0, 0, 1, 1, 1, 2))
            elif stage is S.AUTHORITY_REVIEW:
                target = self.policy.target(stage, province.name) or 20
                days = rng.randint(3, target + 2 if rng.random() < 0.1 else target)
            elif stage is S.AWAITING_PHOTO:
                days = rng.randint(2, 8) if province.requires_mailing else rng.randint(0, 4)
            elif stage is S.RETURNED:
                days = rng.randint(0, 6)
            else:  # rejected, then resubmitted
                days = rng.randint(1, 10)
            times.append(hours.back(later, days))
        times.reverse()
        return times

    def final_entry(self, scenario: Scenario, province: Province) -> datetime:
        """When the filing entered its current stage, so that its health at `now` is the
        scenario's."""
        rng = self.rng
        stage, health = scenario.stage, scenario.health
        if health is H.DONE:
            # Mostly closed in the last few months; a few from the year before.
            days = min(rng.randint(0, 160), rng.randint(0, 160))
            if rng.random() < 0.1:
                days = rng.randint(160, 320)
            return self.hours.back(self.now, days)
        if health is H.WAITING:
            days = rng.randint(0, 6) if rng.random() < 0.8 else rng.randint(7, 30)
            return self.hours.back(self.now, days)
        target = self.policy.target(stage, province.name) or 1
        if stage is S.SMS_VERIFICATION:
            risk = target * self.policy.at_risk_fraction
            low, high = {
                H.ON_TRACK: (0.1, risk - 0.2),
                H.AT_RISK: (risk + 0.1, target - 0.1),
                H.BREACHED: (target + 0.2, 3 * target),
            }[health]
            high = max(low, high)
            return self.hours.office_time(
                self.now - timedelta(hours=high), self.now - timedelta(hours=low)
            )
        # Business-day clock: same arithmetic as the SLA (at risk from day ceil(75 %)).
        risk_day = min(target, max(1, math.ceil(self.policy.at_risk_fraction * target - 1e-9)))
        if health is H.ON_TRACK:
            used = rng.randint(0, risk_day - 1)
        elif health is H.AT_RISK:
            used = rng.randint(risk_day, target)
        elif scenario.escalated or (stage in ALIBABA_CLOUD_REVIEW and rng.random() < 0.5):
            used = self.policy.escalate_after_bd + rng.randint(1, 3)
        else:
            used = target + rng.randint(1, 4)
        return self.hours.entered_with_elapsed(used)

    # -- who and what -----------------------------------------------------------------------

    def entity(self, province: Province) -> _Entity:
        rng = self.rng
        latin = rng.random() < 0.12
        if rng.random() < 0.75:
            city_cn, city_en, city_short = rng.choice(self.cities(province))
            trade_cn, trade_py, trade_en = rng.choice(_TRADE_NAMES)
            industry_cn, industry_en, word = rng.choice(_INDUSTRIES)
            if latin:
                name = f"{city_en} {trade_en} {industry_en} Co., Ltd."
            else:
                city = city_cn + "市" if rng.random() < 0.35 and len(city_cn) == 2 else city_cn
                name = f"{city}{trade_cn}{industry_cn}有限公司"
            return _Entity(name, EntityType.COMPANY, trade_py, (city_short, word))
        surname_cn, surname_en = rng.choice(_SURNAMES)
        given_cn, given_en = rng.choice(_GIVEN_NAMES)
        name = f"{surname_en} {given_en}" if latin else surname_cn + given_cn
        stem = (surname_en + given_en).lower()
        initials = surname_en[0].lower() + "".join(c.lower() for c in given_en if c.isupper())
        word = rng.choice(("blog", "photo", "notes", "studio", "home"))
        return _Entity(name, EntityType.INDIVIDUAL, stem, (initials, word))

    def cities(self, province: Province) -> tuple[City, ...]:
        known = _PLACES.get(province.name)
        if known:
            return known[1]
        local = next((a for a in province.aliases if not a.isascii()), province.name)
        short = "".join(c for c in province.name.lower() if c.isalpha())[:6] or "web"
        return ((local, province.name, short),)

    def domain(self, entity: _Entity) -> str:
        """A domain after the entity's name, made unique the way people do: a lucky number."""
        rng = self.rng
        stem = entity.domain_stem
        prefix, word = entity.domain_words
        patterns: tuple[tuple[str, str], ...]
        if entity.kind is EntityType.COMPANY:
            patterns = (
                (f"{prefix}{stem}", ".cn"),
                (f"{prefix}{stem}", ".com"),
                (f"{stem}{word}", ".com"),
                (f"{stem}{word}", ".cn"),
                (f"{word}-{stem}", ".com.cn"),
                (f"{stem}-{prefix}", ".com.cn"),
                (f"{prefix}-{stem}{word}", ".cn"),
                (stem, ".net"),
                (stem, ".com.cn"),
            )
        else:
            patterns = (
                (stem, ".cn"),
                (stem, ".com"),
                (f"{stem}-{word}", ".cn"),
                (f"{word}-{stem}", ".net"),
                (f"{prefix}{word}", ".cn"),
            )
        label, tld = rng.choice(patterns)
        candidate = label + tld
        tries = 0
        while candidate in self.domains:
            tries += 1
            number = rng.choice(_LUCKY) if tries < 4 else str(rng.randint(2, 9999))
            candidate = f"{label}{number}{tld}"
        self.domains.add(candidate)
        return candidate

    def icp_number(self, province: Province, at: datetime) -> str:
        """Like 浙ICP备2026012345号-1: province abbreviation, year, sequence, website number."""
        abbreviation = _PLACES[province.name][0] if province.name in _PLACES else ""
        if not abbreviation:
            abbreviation = next((a[0] for a in province.aliases if not a.isascii()), "")
        key = (abbreviation, at.year)
        number = self.icp_sequence.get(key) or self.rng.randint(1000, 40000)
        self.icp_sequence[key] = number + self.rng.randint(1, 40)
        site = 1 if self.rng.random() < 0.85 else self.rng.randint(2, 4)
        return f"{abbreviation}ICP备{at.year}{number:06d}号-{site}"


_FORWARD_REASONS = {
    S.AWAITING_PHOTO: "preliminary review passed",
    S.PHOTO_REVIEW: "administrator photo uploaded",
    S.AWAITING_SUBMISSION: "photo verification passed",
    S.SMS_VERIFICATION: "submitted to the {province} communications administration",
    S.AUTHORITY_REVIEW: "SMS check completed by the applicant",
}
