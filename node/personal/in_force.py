"""Which look-up key a node makes its keyed digests with now (关联键密钥).

The province's rule book names the key in force (``lookup_key_id``); a node uses it as soon as
it holds it (keys come down at each Hello, usually with the book that names them), and until
then the newest province key it holds. The province node makes its first key at its first
start, so its first book names a key that already digests its tickets. A node that holds no
province key yet (a county before its first round, the national level, which has no province)
uses a key of its own, kept apart in ``keys/local/`` so that it is never handed down; digests
made under any key other than the one in force are re-keyed by ``node.jobs.lookup_rekey``, so
the links between past tickets are kept.
"""

from __future__ import annotations

from node.desks.province_rules import ProvinceRules
from node.personal.lookup_keys import LookupKeyStore, StoredLookupKey
from sync.personal.shelf import LookupKey
from sync.personal.suites import CipherSuite

LOCAL_FOLDER = "local"
"""Inside the key folder: the node's own look-up key, never handed down."""


class LookupKeyInForce:
    """``() -> LookupKey``: the key new digests are made with; see the module docstring."""

    def __init__(
        self,
        store: LookupKeyStore,
        rules: ProvinceRules,
        suite: CipherSuite,
        now_ms: int,
        *,
        makes_keys: bool,
    ) -> None:
        self.store = store
        """The province's keys, as handed down (or made here, at the province)."""
        self._rules = rules
        self.local = LookupKeyStore.open(store.folder / LOCAL_FOLDER)
        """This node's own key, for as long as it holds none of the province's."""
        if makes_keys and not store.all():
            store.create(suite.value, now_ms)
        if not self.local.all():
            self.local.create(suite.value, now_ms)
        self._converted: dict[str, LookupKey] = {}

    def _as_key(self, stored: StoredLookupKey) -> LookupKey:
        key = self._converted.get(stored.key_id)
        if key is None:
            key = LookupKey(stored.key_id, CipherSuite.parse(stored.suite), stored.key)
            self._converted[stored.key_id] = key
        return key

    def __call__(self) -> LookupKey:
        """The key in force: the rule book's when held, else the newest province key held,
        else the node's own."""
        named = self._rules.book.lookup_key_id if self._rules.book.number else ""
        stored = self.store.get(named) if named else None
        if stored is None and self.store.all():
            stored = self.store.get(self.store.newest_id())
        if stored is None:
            stored = self.local.get(self.local.newest_id())
        assert stored is not None  # the local store is never empty (made at first start)
        return self._as_key(stored)

    def get(self, key_id: str) -> LookupKey | None:
        """A key held here by its id, the province's or the node's own."""
        stored = self.store.get(key_id) or self.local.get(key_id)
        return None if stored is None else self._as_key(stored)
