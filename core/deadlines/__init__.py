"""Deadlines in working days: the calendar, the policy table, obligations, reminders, escalation.

DOMAIN.md §5-§6 in pure code: every duty on a ticket has a limit in working days (工作日) from
a versioned policy table, counted on the Chinese calendar of holidays and make-up workdays,
moved by pauses and approved extensions, reminded at three levels before it is due and
escalated level by level after. Instants are epoch milliseconds, dates are China dates; the
caller passes the time and the holiday table in (DESIGN.md rules 6-7).

The public surface is what ``__all__`` lists; the modules are ``china_time``, ``holidays``
(the only one importing ``chinese_calendar``), ``working_days``, ``policy``, ``obligations``
and ``escalation``. Three modules that read a ticket's state are imported by their own names:
``duties`` (which duties a state leaves open, until when), ``sweep`` (what a sweep records
about them) and ``rulebook`` (the province's rule book).
"""

from core.deadlines.china_time import (
    CHINA_TZ,
    china_date,
    china_datetime,
    end_of_day_ms,
    start_of_day_ms,
)
from core.deadlines.escalation import (
    DEFAULT_REMINDER_POINTS,
    Reminder,
    ReminderLevel,
    ReminderPoint,
    escalation_times,
    levels_to_province,
    overdue_level,
    reminder_times,
)
from core.deadlines.holidays import AdminYears, HolidayTable, YearHolidays, package_years
from core.deadlines.obligations import (
    Obligation,
    clock_at,
    extend,
    is_overdue,
    open_obligation,
    pause,
    recompute_due,
    resume,
)
from core.deadlines.policy import (
    DEFAULT_LIMITS,
    DEFAULT_POLICY,
    Duty,
    TimeLimit,
    TimeLimitPolicy,
    policy_in_force,
)
from core.deadlines.working_days import WorkingDayCalendar

__all__ = [
    "CHINA_TZ",
    "DEFAULT_LIMITS",
    "DEFAULT_POLICY",
    "DEFAULT_REMINDER_POINTS",
    "AdminYears",
    "Duty",
    "HolidayTable",
    "Obligation",
    "Reminder",
    "ReminderLevel",
    "ReminderPoint",
    "TimeLimit",
    "TimeLimitPolicy",
    "WorkingDayCalendar",
    "YearHolidays",
    "china_date",
    "china_datetime",
    "clock_at",
    "end_of_day_ms",
    "escalation_times",
    "extend",
    "is_overdue",
    "levels_to_province",
    "open_obligation",
    "overdue_level",
    "package_years",
    "pause",
    "policy_in_force",
    "recompute_due",
    "reminder_times",
    "resume",
    "start_of_day_ms",
]
