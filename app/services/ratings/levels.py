"""The five levels, their grades and the rated dimensions, in one place (statistics import them too).

GB/T 39734-2020 and 国办发〔2019〕51号: 非常满意, 满意 are good (好评); 基本满意 is neutral; 不满意, 非常
不满意 are bad (差评) and must name a reason. Levels are numbers, 5 the best, so averages read naturally.
"""

from __future__ import annotations

LEVELS: dict[int, tuple[str, str]] = {
    5: ("非常满意", "very satisfied"), 4: ("满意", "satisfied"), 3: ("基本满意", "fairly satisfied"),
    2: ("不满意", "dissatisfied"), 1: ("非常不满意", "very dissatisfied"),
}
GRADES = ("good", "neutral", "bad", "unrated")
GRADE_NAMES = {"good": ("好评", "good"), "neutral": ("中评", "neutral"), "bad": ("差评", "bad"),
               "unrated": ("未评", "unrated")}
GOOD_LEVELS, NEUTRAL_LEVELS, BAD_LEVELS = (5, 4), (3,), (2, 1)

# The overall level (整体满意度) is the rating's `level`; these are rated beside it.
DIMENSIONS: dict[str, dict[str, tuple[str, str]]] = {
    "online": {"efficiency": ("办事效率", "efficiency"), "guide_accuracy": ("办事指南精确度", "accuracy of the guide"),
               "convenience": ("办事便捷度", "convenience"), "usability": ("平台操作性", "ease of use of the platform")},
    "window": {"efficiency": ("服务效率", "efficiency of service"), "competence": ("服务水平", "competence"),
               "attitude": ("服务态度", "attitude")},
}
OVERALL = ("整体满意度", "overall satisfaction")

# GB/T 39734-2020 Annex A: the usual categories of a bad rating; administrators edit the list.
DEFAULT_REASONS: tuple[dict[str, str], ...] = (
    {"code": "attitude", "zh": "服务态度", "en": "attitude of the staff"},
    {"code": "efficiency", "zh": "办事效率", "en": "slow handling"},
    {"code": "one_time_notice", "zh": "一次性告知", "en": "not told everything at once"},
    {"code": "materials", "zh": "材料要求", "en": "requirements for materials"},
    {"code": "system", "zh": "系统问题", "en": "problems with the system"},
    {"code": "other", "zh": "其他", "en": "other"},
)


def grade(level: int | None) -> str:
    """good / neutral / bad for a level; unrated for None (未评)."""
    if level is None:
        return "unrated"
    if level in GOOD_LEVELS:
        return "good"
    return "neutral" if level in NEUTRAL_LEVELS else "bad"


def is_bad(level: int | None) -> bool:
    return level in BAD_LEVELS


def level_name(level: int | None, locale: str = "zh") -> str:
    if level is None:
        return GRADE_NAMES["unrated"][0 if locale == "zh" else 1]
    zh, en = LEVELS[level]
    return zh if locale == "zh" else en
