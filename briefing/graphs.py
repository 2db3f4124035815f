"""Loops in a graph of names (BibTeX entries inheriting fields, CSL macros calling macros).

Both would send pandoc into endless expansion; both are found here, the same way.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TypeVar

Edge = TypeVar("Edge")


def closing_edges(graph: Mapping[str, Sequence[tuple[str, Edge]]]) -> Iterator[tuple[str, str, Edge]]:
    """Each edge that closes a loop, as (from, to, its payload): depth first, with a stack of our own
    (a style may chain thousands of macros, past Python's recursion limit)."""
    done: set[str] = set()
    for start in graph:
        if start in done:
            continue
        path, pending = [start], [iter(graph[start])]
        while pending:
            step = next(pending[-1], None)
            if step is None:
                done.add(path.pop())
                pending.pop()
                continue
            name, payload = step
            if name in path:
                yield path[-1], name, payload
            elif name in graph and name not in done:
                path.append(name)
                pending.append(iter(graph[name]))
