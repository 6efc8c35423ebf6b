"""The loop's offline journal file: append, load, replace; damaged lines skipped and counted; re-entrant lock."""

from __future__ import annotations

import threading

from orchestrator_gui.fleet.journal import MAX_LINE, MemoryJournal, OfflineJournal


def test_file_journal_round_trip_and_damage(tmp_path):
    j = OfflineJournal(tmp_path / ".orchestrator" / "fleet-claims.jsonl")
    assert not j.pending() and j.load() == []
    j.append({"what": "local", "task_id": "a", "text": "日本語 \"quoted\"\n"})
    j.append({"what": "finish", "task_id": "a"})
    with open(j.path, "ab") as fh:  # a torn write, a huge line, a non-object
        fh.write(b'{"what": "local", "task_id"\n' + b"x" * (MAX_LINE + 1) + b"\n[1, 2]\n")
    j.append({"what": "local", "task_id": "b"})
    assert j.pending()
    assert [e["task_id"] for e in j.load()] == ["a", "a", "b"]
    assert j.load()[0]["text"] == "日本語 \"quoted\"\n"
    assert j.bad_lines >= 2
    with j.locked():  # a replay holds the lock around load and replace: no deadlock
        left = j.load()[2:]
        j.replace(left)
    assert [e["task_id"] for e in OfflineJournal(j.path).load()] == ["b"]
    j.replace([])
    assert not j.path.exists() and not j.pending()


def test_file_journal_appends_from_threads_are_whole_lines(tmp_path):
    j = OfflineJournal(tmp_path / "j.jsonl")

    def work(n: int) -> None:
        for i in range(50):
            j.append({"task_id": f"{n}-{i}", "pad": "y" * 2000})

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(j.load()) == 200 and j.bad_lines == 0


def test_memory_journal():
    j = MemoryJournal()
    assert not j.pending()
    j.append({"task_id": "a"})
    assert j.pending() and j.load() == [{"task_id": "a"}]
    j.replace([])
    assert not j.pending()
