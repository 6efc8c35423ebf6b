"""WebSocket ``/events``: the live workspace's numbered events, resumable with ``?since=SEQ``.

On connect the server sends ``{"type": "hello", "epoch", "seq"}`` (``seq``:
the newest event's number). A client that passes ``since`` (the last number
it saw) and ``epoch`` (from an earlier hello) first gets every event it
missed, then the live ones; when what it missed is no longer kept, or the
epoch is another one (the server restarted), it gets ``{"type": "resync",
"epoch", "seq"}`` instead and should read the state again. Events are
``{"seq", "type", "time", "data"}`` with ``type`` one of ``transaction``,
``files``, ``run``, ``conflict``.

A client that reads too slowly for :data:`QUEUE_LIMIT` events is sent a
``resync`` and closed, rather than slowing the others down.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect

#: Events buffered per client before it is told to resync and closed.
QUEUE_LIMIT = 50_000
_OVERFLOW = object()


def events_router(live: Any) -> APIRouter:
    """The ``/events`` WebSocket of ``live``."""
    r = APIRouter()
    journal = live.journal

    @r.websocket("/events")
    async def events(ws: WebSocket, since: int | None = Query(None, ge=0, le=2**62),
                     epoch: str | None = Query(None, max_length=64)) -> None:
        await ws.accept()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        # Handed over counts only publishers change (one at a time: under the journal's lock), sent
        # counts only this loop changes; their difference is what waits for this client.
        count = {"handed": 0, "sent": 0, "overflow": False}

        def on_event(event: Any) -> None:
            # In whatever thread published it: hand over to the event loop, never block.
            if count["overflow"]:
                return
            count["handed"] += 1
            if count["handed"] - count["sent"] > QUEUE_LIMIT:
                count["overflow"] = True
                loop.call_soon_threadsafe(queue.put_nowait, _OVERFLOW)
                return
            loop.call_soon_threadsafe(queue.put_nowait, event)

        missed, detach = journal.attach(on_event, since, epoch)
        try:
            hello = {"type": "hello", "epoch": journal.epoch, "seq": journal.last_seq}
            await ws.send_text(json.dumps(hello))
            if missed is None:
                await ws.send_text(json.dumps({"type": "resync", "epoch": journal.epoch, "seq": journal.last_seq}))
            else:
                for event in missed:
                    await ws.send_text(event.text)
            receiver = asyncio.ensure_future(_drain(ws))
            try:
                while True:
                    getter = asyncio.ensure_future(queue.get())
                    done, _ = await asyncio.wait({getter, receiver}, return_when=asyncio.FIRST_COMPLETED)
                    if receiver in done:
                        getter.cancel()
                        return
                    items = [getter.result()]
                    while not queue.empty():  # a burst goes out without a wait per event
                        items.append(queue.get_nowait())
                    for item in items:
                        if item is _OVERFLOW:
                            await ws.send_text(json.dumps({"type": "resync", "epoch": journal.epoch,
                                                           "seq": journal.last_seq, "reason": "too slow"}))
                            await ws.close(code=1013)
                            return
                        count["sent"] += 1
                        await ws.send_text(item.text)
            finally:
                receiver.cancel()
        except (WebSocketDisconnect, RuntimeError):
            return
        finally:
            detach()

    return r


async def _drain(ws: WebSocket) -> None:
    """Read (and ignore) what the client sends, until it goes away."""
    try:
        while True:
            message = await ws.receive()
            if message.get("type") == "websocket.disconnect":
                return
    except (WebSocketDisconnect, RuntimeError):
        return


__all__ = ["QUEUE_LIMIT", "events_router"]
