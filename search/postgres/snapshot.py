"""A view's connection whose snapshot is begun by its first statement, in the same round trip.

The web reads the index's generation for the ETag, then searches. That read tells the view
which (generation, documents) to expect: the view computes its first statement from the
caches of that generation, and sends it in one pipeline with BEGIN, the time limit and the
state's read (and COMMIT, when it is the view's last statement: `last`). When the state
read is not the expected one (an update committed in between), the view is `stale`: the
search redoes its work in a snapshot begun the ordinary way (`begin_now`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg

__all__ = ["LazySnapshot"]

State = tuple[str, int]


class LazySnapshot:
    """A pooled connection (for a view), its snapshot begun with its first statement."""

    def __init__(self, conn: Any, expected: State, begin: Callable[[], list[str]],
                 state_query: str, checked: Callable[[Any], State],
                 replace: Callable[[Any], Any], tries: int, *, begun: bool = False) -> None:
        self.conn = conn
        self.expected = expected
        self.state: State = expected
        self.stale = False
        self._begin = begin  # BEGIN and SET LOCAL statements, made when sent
        self._state_query = state_query
        self._checked = checked  # a state row as (generation, documents)
        self._replace = replace  # a broken connection given back: the next one
        self._tries = tries
        self._begun = begun
        self._ended = False  # COMMIT sent with the last statement

    @classmethod
    def begun(cls, conn: Any, state: State) -> LazySnapshot:
        """A connection whose snapshot is already begun, its state read."""
        return cls(conn, state, list, "", lambda row: state, lambda c: c, 1, begun=True)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        if self._begun:
            return self.conn.execute(query, params, **kwargs)
        return self._first(query, params, kwargs, commit=False)

    def last(self, query: Any, params: Any = None) -> list[tuple[Any, ...]]:
        """The rows of the view's last statement in its snapshot, COMMIT sent with it: a
        statement after it runs on its own (autocommit)."""
        if self._begun and not self._ended:
            with self.conn.pipeline():
                cur = self.conn.execute(query, params)
                self.conn.execute("COMMIT")
            self._ended = True
            return cur.fetchall()
        if self._begun:
            return self.conn.execute(query, params).fetchall()
        return self._first(query, params, {}, commit=True).fetchall()

    def begin_now(self, begun: Callable[[Any], Any]) -> State:
        """A snapshot begun the ordinary way when none is open (`begun` reads its state);
        its state."""
        if not self._begun or self._ended:
            self.state = self._checked(begun(self.conn))
            self._begun, self._ended = True, False
        self.stale = False
        return self.state

    def _first(self, query: Any, params: Any, kwargs: dict[str, Any], *, commit: bool
               ) -> Any:
        """Begin, read the state and run the first statement in one round trip; a pooled
        connection found broken is replaced (nothing was done on it yet)."""
        for attempt in range(self._tries):
            try:
                with self.conn.pipeline():
                    for statement in self._begin():
                        self.conn.execute(statement)
                    state = self.conn.execute(self._state_query)
                    cur = self.conn.execute(query, params, **kwargs)
                    if commit:
                        self.conn.execute("COMMIT")
                break
            except psycopg.OperationalError:
                if not self.conn.broken or attempt == self._tries - 1:
                    raise
                self.conn = self._replace(self.conn)
        self._begun, self._ended = True, commit
        self.state = self._checked(state.fetchone())
        self.stale = self.state != self.expected
        return cur
