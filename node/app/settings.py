"""A node's configuration: one typed, frozen object built from a file, the environment and flags.

Precedence, lowest first: defaults, a TOML file (``--config``), ``HOTLINE_*`` environment
variables, command-line flags. Only entry points (the CLI) read ``os.environ`` and pass the
mapping in; everything below receives a ``NodeSettings``.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from core.access.policy import MINUTE_MS, SignInPolicy
from core.access.throttle import BucketRule, SignInLimits
from core.errors import InvalidInput
from core.incidents import IncidentRules
from core.units import UnitLevel, level_of
from node.access.passwords import LEAST_MEMORY_KIB, MEMORY_KIB, PasswordHashing
from sync.personal.suites import CipherSuite


class InvalidSetting(InvalidInput):
    """A node setting (flag, ``HOTLINE_*`` variable or config file) that cannot work.

    Still an ``InvalidInput`` naming its field (the setting), so every place that reports bad
    input reports it; its own class so that an operator's mistake is told apart from a caller's.
    """


@dataclass(frozen=True)
class NodeSettings:
    """Everything a node needs to start."""

    level: UnitLevel
    """Which of the five levels this node serves."""
    unit: str
    """The unit's code: 6-digit GB/T 2260 code, or 9 digits for a station."""
    data_dir: Path
    """Where the node keeps its key (mode 0600) and, by default, its SQLite database."""
    db: str = ""
    """Database URL; empty means SQLite at ``data_dir/node.db``."""
    host: str = "127.0.0.1"
    """Address to listen on."""
    port: int = 0
    """Client port (Intake, Casework, Admin); 0 picks a free one (printed at start)."""
    peer_port: int = 0
    """Port of the mutual-TLS ``SyncService`` that children call; 0 picks a free one."""
    metrics_port: int = -1
    """Port of the node's Prometheus metrics (plain HTTP, on ``host``; docs/operations.md,
    "Metrics"); 0 picks a free one, -1 (the default) serves none: several nodes share a machine
    in a drill or a scaled-out hub, so no one fixed port would do, and what the figures say
    (peers, units, load) is for an operator who asks for it."""
    parent: str = ""
    """``HOST:PORT`` of the parent node's peer port; empty at the top of the tree."""
    parent_unit: str = ""
    """The parent's unit code, checked against its certificate; empty: the usual parent
    (station -> county -> city -> province -> national)."""
    unit_name: str = ""
    """Name of the unit, for a station not yet known to the node."""
    sync_interval: float = 2.0
    """Seconds between replication rounds with the parent."""
    sync_batch: int = 500
    """Events per replication batch."""
    writer_batch: int = 256
    """Most jobs the log writer commits in one transaction."""
    max_calls: int = 256
    """Most calls each port serves at once; one more is refused with RESOURCE_EXHAUSTED and a
    hint of when to retry (docs/security.md, "Limits and input checks")."""
    max_pushes: int = 0
    """Most children's pushes (``PushEvents``) taken in at once; one more is refused with
    RESOURCE_EXHAUSTED and a retry hint (a replication storm, ``sync.push_admission``).
    0: sized for the machine (one per core, at least two)."""
    wait_limit: float = 30.0
    """Seconds a call waits for the log writer or the blocking pool before it is answered
    (RESOURCE_EXHAUSTED if its work had not begun, DEADLINE_EXCEEDED if it had)."""
    sweep_interval: float = 30.0
    """Seconds (real time) between escalation sweeps; drills with a fast clock sweep often."""
    clock_speed: float = 1.0
    """How fast the node's clock runs (drills and tests run it faster); see ``node/clock.py``."""
    clock_offset: float = 0.0
    """Seconds added to real time (a node "on" a chosen day); not with ``clock_start``."""
    clock_start: str = ""
    """Drill time at the anchor, ISO-8601 with its UTC offset (``2026-12-01T10:00+08:00``);
    empty: no drill start, the clock starts from real time."""
    clock_anchor: float = 0.0
    """Real instant (epoch seconds) from which the clock runs at ``clock_speed``; every node of
    a drill is given the same one so they all see the same drill time. 0: the node's start."""
    signin_max_failures: int = 5
    """Wrong sign-in tries in a row (password or code) that lock an officer's account."""
    signin_lockout_minutes: float = 15.0
    """How long a locked account stays locked (real minutes)."""
    session_idle_minutes: float = 30.0
    """A session with no call for this long ends (real minutes)."""
    session_lifetime_hours: float = 8.0
    """A session ends this long after sign-in, however busy (real hours)."""
    signin_address_burst: int = 20
    """Wrong sign-in tries (officer, enterprise user, consumer code) one caller address may
    make in a row before it is held back (docs/security.md, "Rate limits")."""
    signin_address_per_minute: float = 10.0
    """... and how many more it may make a minute after that."""
    signin_account_burst: int = 10
    """Wrong tries on one account (an officer, an enterprise user, a ticket's code) in a row,
    from any addresses, before it is held back."""
    signin_account_per_minute: float = 2.0
    """... and how many more a minute after that."""
    consumer_code_max_failures: int = 5
    """Wrong verification codes in a row that lock a ticket's consumer access."""
    consumer_code_lockout_minutes: float = 60.0
    """How long a ticket's consumer access stays locked (real minutes)."""
    consumer_session_minutes: float = 30.0
    """A consumer's session ends this long after sign-in (real minutes); it ends after
    ``session_idle_minutes`` without a call too, if that is shorter."""
    password_hash_memory_kib: int = MEMORY_KIB
    """Argon2id memory per password hash, KiB: the OWASP 19 MiB unless the tests or the demo
    ask for less (a node warns at start when below it; docs/security.md)."""
    personal_suite: str = "international"
    """The cipher suite of personal data (docs/security.md, "Personal data") until the
    province's rule book names one: ``international`` (AES-256-GCM, SHA-256) or ``commercial``
    (SM4-GCM, SM3, 商用密码); also the suite of the node's first key-encryption key."""
    incidents: IncidentRules = field(default_factory=IncidentRules)
    """Thresholds for group complaints, emergencies and professional claimants
    (docs/incidents.md): an ``[incidents]`` table in the config file, or the path of a TOML
    file holding one (``HOTLINE_INCIDENTS``); the defaults otherwise."""

    @property
    def drill_start(self) -> datetime | None:
        """``clock_start`` as an aware instant, None when not set; refuses what is not one."""
        if not self.clock_start:
            return None
        try:
            start = datetime.fromisoformat(self.clock_start)
        except ValueError:
            raise InvalidSetting(
                "clock_start", f"{self.clock_start!r} is not an ISO-8601 date and time"
            ) from None
        if start.tzinfo is None or start.utcoffset() is None:
            # A drill's nodes may run in different time zones; a bare time would mean
            # different instants on each of them.
            raise InvalidSetting(
                "clock_start",
                f"{self.clock_start!r} needs its UTC offset, e.g. 2026-12-01T10:00+08:00",
            )
        return start

    @property
    def drill_clock(self) -> bool:
        """True when the node runs on a drill clock: from a chosen start, faster than real time
        or shifted from it. Only such a node may serve with a drill hierarchy's certificate
        (docs/drills.md)."""
        return bool(self.clock_start) or self.clock_speed != 1.0 or self.clock_offset != 0.0

    @property
    def sign_in_policy(self) -> SignInPolicy:
        """The sign-in and session rules of these settings (docs/security.md)."""
        return SignInPolicy(
            max_failures=self.signin_max_failures,
            lockout_ms=round(self.signin_lockout_minutes * MINUTE_MS),
            idle_ms=round(self.session_idle_minutes * MINUTE_MS),
            lifetime_ms=round(self.session_lifetime_hours * 60 * MINUTE_MS),
        )

    @property
    def consumer_policy(self) -> SignInPolicy:
        """The consumer-code rules of these settings: wrong codes that lock a ticket's access,
        for how long, and a consumer session's length (docs/security.md, "Consumer access")."""
        lifetime = round(self.consumer_session_minutes * MINUTE_MS)
        return SignInPolicy(
            max_failures=self.consumer_code_max_failures,
            lockout_ms=round(self.consumer_code_lockout_minutes * MINUTE_MS),
            idle_ms=min(lifetime, round(self.session_idle_minutes * MINUTE_MS)),
            lifetime_ms=lifetime,
        )

    @property
    def sign_in_limits(self) -> SignInLimits:
        """The rate limits on sign-in tries of these settings (docs/security.md)."""
        return SignInLimits(
            per_address=BucketRule(self.signin_address_burst, self.signin_address_per_minute),
            per_account=BucketRule(self.signin_account_burst, self.signin_account_per_minute),
        )

    @property
    def password_hashing(self) -> PasswordHashing:
        """How the node hashes officers' passwords (Argon2id, ``password_hash_memory_kib``)."""
        return PasswordHashing(self.password_hash_memory_kib)

    @property
    def database_url(self) -> str:
        """The database URL, defaulting to SQLite in the data folder."""
        return self.db or f"sqlite:///{(self.data_dir / 'node.db').resolve()}"

    def check(self) -> NodeSettings:
        """Refuse settings that cannot work, naming the setting."""
        if level_of(self.unit) is not self.level:
            raise InvalidSetting(
                "unit", f"{self.unit} is a {level_of(self.unit).value} code, not {self.level.value}"
            )
        if self.level is not UnitLevel.NATIONAL and not self.parent:
            raise InvalidSetting("parent", f"a {self.level.value} node needs its parent HOST:PORT")
        if self.parent and ":" not in self.parent:
            raise InvalidSetting("parent", f"expected HOST:PORT, got {self.parent!r}")
        for name in ("port", "peer_port"):
            if not 0 <= getattr(self, name) < 65536:
                raise InvalidSetting(name, f"{getattr(self, name)} is not a port number")
        if not -1 <= self.metrics_port < 65536:
            raise InvalidSetting(
                "metrics_port", f"{self.metrics_port} is not a port number (-1: no metrics)"
            )
        if self.parent_unit and not (
            self.parent_unit.isdigit()
            and len(self.parent_unit) == 6
            and level_of(self.parent_unit).is_above(self.level)
        ):
            raise InvalidSetting(
                "parent_unit", f"{self.parent_unit!r} is not the code of a unit above this one"
            )
        if not self.sweep_interval > 0:  # written so that NaN is refused too
            raise InvalidSetting("sweep_interval", "must be positive")
        if self.max_calls < 1:
            raise InvalidSetting("max_calls", f"must be at least 1, not {self.max_calls}")
        if self.max_pushes < 0:
            raise InvalidSetting(
                "max_pushes", f"must be 0 (sized for the machine) or more, not {self.max_pushes}"
            )
        if not (math.isfinite(self.wait_limit) and self.wait_limit > 0):
            raise InvalidSetting("wait_limit", "must be a positive number of seconds")
        self._check_clock()
        self._check_sign_in()
        try:
            CipherSuite.parse(self.personal_suite, "personal_suite")
        except InvalidInput as exc:
            raise InvalidSetting("personal_suite", exc.reason) from None
        return self

    def _check_sign_in(self) -> None:
        """Refuse sign-in numbers that cannot work, naming the setting."""
        if self.signin_max_failures < 1:
            raise InvalidSetting("signin_max_failures", "must be at least 1")
        for name in ("signin_lockout_minutes", "session_idle_minutes", "session_lifetime_hours"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise InvalidSetting(name, f"must be a positive number, not {value}")
        if self.password_hash_memory_kib < LEAST_MEMORY_KIB:
            raise InvalidSetting(
                "password_hash_memory_kib", f"must be at least {LEAST_MEMORY_KIB} (KiB)"
            )
        if self.session_idle_minutes > self.session_lifetime_hours * 60:
            raise InvalidSetting(
                "session_idle_minutes", "is longer than the session's whole lifetime"
            )
        for name in ("signin_address_burst", "signin_account_burst", "consumer_code_max_failures"):
            if getattr(self, name) < 1:
                raise InvalidSetting(name, f"must be at least 1, not {getattr(self, name)}")
        for name in (
            "signin_address_per_minute",
            "signin_account_per_minute",
            "consumer_code_lockout_minutes",
            "consumer_session_minutes",
        ):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise InvalidSetting(name, f"must be a positive number, not {value}")

    def _check_clock(self) -> None:
        """Refuse clock settings that cannot work, or that would quietly set one node of a drill
        apart from the others (docs/drills.md)."""
        if not (math.isfinite(self.clock_speed) and self.clock_speed > 0):
            raise InvalidSetting(
                "clock_speed", f"must be a positive number, not {self.clock_speed}"
            )
        if not math.isfinite(self.clock_offset):
            raise InvalidSetting(
                "clock_offset", f"must be a number of seconds, not {self.clock_offset}"
            )
        if not (math.isfinite(self.clock_anchor) and self.clock_anchor >= 0):
            raise InvalidSetting(
                "clock_anchor",
                f"must be epoch seconds (0: the node's start), not {self.clock_anchor}",
            )
        if self.drill_start is not None and self.clock_offset:
            # Both shift the clock; taken together a forgotten HOTLINE_CLOCK_OFFSET would move
            # one node of a drill away from the others without a word.
            raise InvalidSetting(
                "clock_offset", "cannot be combined with clock_start (the drill's start says when)"
            )


_ENV_PREFIX = "HOTLINE_"


def _coerce(name: str, value: Any) -> Any:
    kinds = {f.name: f.type for f in fields(NodeSettings)}
    kind = kinds[name]
    if kind == "IncidentRules":
        return _incident_rules(value)
    try:
        if kind == "UnitLevel":
            return UnitLevel(str(value))
        if kind == "Path":
            return Path(str(value))
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
    except ValueError as exc:
        raise InvalidSetting(name, f"bad value {value!r}: {exc}") from None
    return str(value)


def _incident_rules(value: Any) -> IncidentRules:
    """The incident thresholds from a TOML table, or from a file holding ``[incidents]``."""
    if isinstance(value, IncidentRules):
        return value
    if isinstance(value, Mapping):
        return IncidentRules.from_mapping(value)
    path = Path(str(value))
    try:
        loaded = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InvalidSetting("incidents", f"cannot read {path}: {exc}") from None
    return IncidentRules.from_mapping(loaded.get("incidents", loaded))


def build_settings(
    flags: Mapping[str, Any], env: Mapping[str, str], config_file: Path | None = None
) -> NodeSettings:
    """Settings from a TOML file, then ``HOTLINE_*`` variables, then flags (None = not given)."""
    names = {f.name for f in fields(NodeSettings)}
    values: dict[str, Any] = {}
    if config_file is not None:
        try:
            loaded = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise InvalidSetting("config", f"cannot read {config_file}: {exc}") from None
        unknown = set(loaded) - names
        if unknown:
            raise InvalidSetting("config", f"unknown settings in {config_file}: {sorted(unknown)}")
        values.update(loaded)
    for name in names:
        if _ENV_PREFIX + name.upper() in env:
            values[name] = env[_ENV_PREFIX + name.upper()]
    values.update({k: v for k, v in flags.items() if k in names and v is not None})
    for required in ("level", "unit", "data_dir"):
        if required not in values:
            raise InvalidSetting(required, "is required (flag, HOTLINE_ variable or config file)")
    settings = NodeSettings(**{k: _coerce(k, v) for k, v in values.items()})
    return replace(settings).check()
