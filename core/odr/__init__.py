"""The ODR green channel (在线消费纠纷解决, 绿色通道; DOMAIN.md §8, docs/odr.md).

Enterprises enrolled by their county settle consumer disputes directly, within the ODR limit,
before any bureau has to act. ``roster`` says who is enrolled and routable; ``roster_record``
and ``roster_changes`` are the signed versions it is made of and how each change is drafted;
``enrolment`` checks an application, ``standing`` judges a unit's period. The dispute's own
rules (its events, states and deadline) live beside them.
"""
