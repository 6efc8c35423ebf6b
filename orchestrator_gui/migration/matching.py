"""Pair a file's items as the graph last saw them with the items the file holds now.

The keys of TODO headings and items and of schedule sections hash their text
(:func:`orchestrator_gui.model.identity.text_keyed`), so an edit changes the
key. :func:`pair_entries` decides which new item continues which old one, by
position and neighbours, so that the migration keeps the node (its id,
activation, access counts, links, generated children, selection) and only
updates its text.

The rule
--------
Items pair only within one scope (a file, or one schedule's sections) and
with the same kind (heading, item, section). Within a scope, in file order:

1. **Anchors.** A text that occurs exactly once among the old items and once
   among the new pairs those two, wherever they are: an item moved, indented,
   or with lines inserted around it is the same item.
2. **Gaps.** The anchors that kept their relative order (the longest such
   chain) cut both sequences into gaps: what lay between two anchors before
   corresponds to what lies between the same anchors now.
3. **Equal texts** within a gap pair in order (a longest common subsequence
   that prefers pairs at the same place in the gap), so repeated titles keep
   their nodes; those pairs cut the gap into smaller gaps.
4. **Edits in place.** In each smallest gap, the unpaired old and new items
   of one kind pair in order when there are as many of each. This is what an
   edit of one or several items looks like; an item deleted and another added
   at the same place looks the same and is treated the same (the new item
   takes over the node; the old text stays in the node's history).
5. **Alike texts.** Where the counts differ, an old and a new item of a gap
   (step 2) pair when their texts are alike (``difflib`` ratio at least
   :data:`SIMILAR`) and each is the other's only best match.
6. **Moved and edited.** What is still unpaired in the whole scope pairs the
   same way, but only with texts more alike (:data:`MOVED_SIMILAR`): an item
   moved elsewhere and reworded a little. (So an item deleted in one place
   and a very similar one added in another count as one item moved.)

When in doubt, nothing pairs: the old item's node is removed and the new item
gets a new node, as without this module. Everything here is deterministic and
pure (no graph, no files), so it is tested on its own.
"""

from __future__ import annotations

import difflib
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: Least ``difflib`` ratio of two texts for step 5 (alike texts between the same neighbours).
SIMILAR = 0.6
#: Least ratio for step 6 (alike texts anywhere in the scope: moved and reworded).
MOVED_SIMILAR = 0.8
#: Largest gap (old items x new items) given the exact common-subsequence search of step 3; larger
#: gaps use difflib's matching blocks (linear-ish, no same-place preference).
LCS_CELLS = 40_000
#: Largest number of text comparisons of step 5 in one gap; a larger gap pairs nothing by likeness.
RATIO_PAIRS = 2_500
#: Characters of each text compared in step 5.
RATIO_CHARS = 2_000


@dataclass(frozen=True)
class Entry:
    """One item of a scope, old (a node) or new (a planned node).

    Attributes
    ----------
    ref : str
        What the caller knows the item by (a node id, a planned id).
    scope : str
        Items pair only within one scope.
    kind : str
        ... and only with the same kind.
    base : str
        The text identity (equal texts, equal bases).
    text : str
        The text compared by step 5 (title and content).
    """

    ref: str
    scope: str
    kind: str
    base: str
    text: str = ""


def pair_entries(old: Iterable[Entry], new: Iterable[Entry]) -> dict[str, str]:
    """Which old item each new item continues (see the module's rule).

    Parameters
    ----------
    old, new : iterables of Entry
        The items before and now, each scope's items in file order.

    Returns
    -------
    dict of str to str
        ``new.ref -> old.ref`` for every pair; an item appears at most once on
        either side.
    """
    olds: dict[str, list[Entry]] = {}
    for e in old:
        olds.setdefault(e.scope, []).append(e)
    news: dict[str, list[Entry]] = {}
    for e in new:
        news.setdefault(e.scope, []).append(e)
    out: dict[str, str] = {}
    for scope, n in news.items():
        o = olds.get(scope)
        if o:
            out.update((n[j].ref, o[i].ref) for j, i in _pair_scope(o, n).items())
    return out


def _pair_scope(old: list[Entry], new: list[Entry]) -> dict[int, int]:
    """New index -> old index within one scope."""
    a = [(e.kind, e.base) for e in old]
    b = [(e.kind, e.base) for e in new]
    if a == b:  # nothing edited (the usual sync): everything pairs in order
        return dict(zip(range(len(b)), range(len(a)), strict=True))
    pairs: dict[int, int] = {}
    # 1. anchors: texts that occur once on each side
    count_a, count_b = Counter(a), Counter(b)
    once_a = {x: i for i, x in enumerate(a) if count_a[x] == 1}
    anchors = [(once_a[x], j) for j, x in enumerate(b) if count_b[x] == 1 and x in once_a]
    pairs.update((j, i) for i, j in anchors)
    # 2. the anchors that kept their order cut the sequences into gaps
    chain = _increasing(anchors)
    taken_old = set(pairs.values())
    bounds = [(-1, -1), *chain, (len(a), len(b))]
    for (i0, j0), (i1, j1) in zip(bounds, bounds[1:], strict=False):
        gap_old = [i for i in range(i0 + 1, i1) if i not in taken_old]
        gap_new = [j for j in range(j0 + 1, j1) if j not in pairs]
        if gap_old and gap_new:
            pairs.update(_pair_gap(old, new, a, b, gap_old, gap_new))
    # 6. moved and reworded
    taken_old = set(pairs.values())
    left_old = [i for i in range(len(old)) if i not in taken_old]
    left_new = [j for j in range(len(new)) if j not in pairs]
    if left_old and left_new:
        pairs.update(_alike(old, new, left_old, left_new, MOVED_SIMILAR))
    return pairs


def _increasing(anchors: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest chain of ``anchors`` (in new order) whose old indices increase too."""
    tails: list[int] = []  # old index ending the best chain of each length
    tail_at: list[int] = []  # position in anchors of that end
    back: list[int] = []
    for k, (i, _) in enumerate(anchors):
        n = bisect_left(tails, i)
        if n == len(tails):
            tails.append(i)
            tail_at.append(k)
        else:
            tails[n], tail_at[n] = i, k
        back.append(tail_at[n - 1] if n else -1)
    out: list[tuple[int, int]] = []
    k = tail_at[-1] if tail_at else -1
    while k >= 0:
        out.append(anchors[k])
        k = back[k]
    return out[::-1]


def _pair_gap(old: list[Entry], new: list[Entry], a: list[tuple[str, str]], b: list[tuple[str, str]],
              gap_old: list[int], gap_new: list[int]) -> dict[int, int]:
    """Steps 3-5 in one gap (indices into the scope's sequences)."""
    pairs: dict[int, int] = {}
    # 3. equal texts in order; they cut the gap into smaller ones
    common = _common([a[i] for i in gap_old], [b[j] for j in gap_new])
    pairs.update((gap_new[q], gap_old[p]) for p, q in common)
    bounds = [(-1, -1), *common, (len(gap_old), len(gap_new))]
    for (p0, q0), (p1, q1) in zip(bounds, bounds[1:], strict=False):
        # 4. as many old as new items of a kind between the same neighbours: edits in place
        by_kind_old: dict[str, list[int]] = {}
        for i in gap_old[p0 + 1:p1]:
            by_kind_old.setdefault(old[i].kind, []).append(i)
        by_kind_new: dict[str, list[int]] = {}
        for j in gap_new[q0 + 1:q1]:
            by_kind_new.setdefault(new[j].kind, []).append(j)
        for kind, olds in by_kind_old.items():
            news = by_kind_new.get(kind, [])
            if len(olds) == len(news):
                pairs.update(zip(news, olds, strict=True))
    # 5. what is left of the gap pairs by likeness, or not at all
    taken = set(pairs.values())
    left_old = [i for i in gap_old if i not in taken]
    left_new = [j for j in gap_new if j not in pairs]
    if left_old and left_new:
        pairs.update(_alike(old, new, left_old, left_new, SIMILAR))
    return pairs


def _common(x: Sequence[tuple[str, str]], y: Sequence[tuple[str, str]]) -> list[tuple[int, int]]:
    """A longest common subsequence of ``x`` and ``y`` as index pairs, preferring pairs at the same place.

    Among the longest, the one whose pairs are least displaced (sum of
    ``|p - q|``) wins, so of two equal titles the one still at its place
    keeps its node. Gaps of more than :data:`LCS_CELLS` cells use difflib.
    """
    n, m = len(x), len(y)
    if n * m > LCS_CELLS:
        sm = difflib.SequenceMatcher(None, list(x), list(y), autojunk=False)
        return [(blk.a + k, blk.b + k) for blk in sm.get_matching_blocks() for k in range(blk.size)]
    # best[p][q]: (matches, -displacement) of the best pairing of x[p:] and y[q:]
    width = m + 1
    best = [(0, 0)] * ((n + 1) * width)
    for p in range(n - 1, -1, -1):
        for q in range(m - 1, -1, -1):
            skip_x, skip_y = best[(p + 1) * width + q], best[p * width + q + 1]
            top = skip_x if skip_x >= skip_y else skip_y
            if x[p] == y[q]:
                after = best[(p + 1) * width + q + 1]
                take = (after[0] + 1, after[1] - abs(p - q))
                if take > top:
                    top = take
            best[p * width + q] = top
    out: list[tuple[int, int]] = []
    p = q = 0
    while p < n and q < m:
        here = best[p * width + q]
        if x[p] == y[q]:
            after = best[(p + 1) * width + q + 1]
            if here == (after[0] + 1, after[1] - abs(p - q)):
                out.append((p, q))
                p, q = p + 1, q + 1
                continue
        if here == best[(p + 1) * width + q]:
            p += 1
        else:
            q += 1
    return out


def _alike(old: list[Entry], new: list[Entry], left_old: list[int], left_new: list[int],
           least: float) -> dict[int, int]:
    """Steps 5 and 6: old and new items of one kind that are each other's only best match, ``least`` alike."""
    if len(left_old) * len(left_new) > RATIO_PAIRS:
        return {}
    scores: dict[tuple[int, int], float] = {}
    for i in left_old:
        for j in left_new:
            if old[i].kind == new[j].kind:
                sm = difflib.SequenceMatcher(None, old[i].text[:RATIO_CHARS], new[j].text[:RATIO_CHARS],
                                             autojunk=False)
                if sm.real_quick_ratio() >= least and sm.quick_ratio() >= least:
                    scores[(i, j)] = sm.ratio()

    def only_best(side: int) -> dict[int, int]:
        ranked: dict[int, list[tuple[float, int]]] = {}
        for pair, r in scores.items():
            ranked.setdefault(pair[side], []).append((r, pair[1 - side]))
        out: dict[int, int] = {}
        for k, cands in ranked.items():
            cands.sort(reverse=True)
            if cands[0][0] >= least and (len(cands) == 1 or cands[1][0] < cands[0][0]):
                out[k] = cands[0][1]
        return out

    best_new, best_old = only_best(0), only_best(1)
    return {j: i for j, i in best_old.items() if best_new.get(i) == j}
