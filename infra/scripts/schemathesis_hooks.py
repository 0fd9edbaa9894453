"""Schemathesis hooks for Confer's API (loaded by infra/scripts/schemathesis.sh).

A `cursor` is opaque: the only valid ones are those the server issued as `next_cursor` for the same
list (the same path). The document says so, but no schema can: any string of the cursor's
alphabet satisfies the pattern, and the server rightly refuses one it did not issue with 400.
So a case generated as valid (positive) does what a client does: it sends a cursor only when it
holds one the server gave for that path, and otherwise reads from the start. Invalid (negative)
cases keep whatever cursor they were given, so refusals are still checked.

An announcement's `send_at` is the same kind of value: a date-time is valid by the schema, but the
server refuses one in the past (or over a year ahead) with 400, which no schema can say relative
to the clock. A valid case schedules what a client would, an hour ahead; invalid cases keep theirs.
"""

import datetime

import schemathesis

# Cursors the server issued, by the path of the list that issued them.
issued: dict[str, set[str]] = {}


def _path(case) -> str:
    return case.formatted_path


def _query_holders(query):
    """The query itself and, for exploded object parameters, each object in it."""
    yield query
    for value in query.values():
        if isinstance(value, dict):
            yield value


@schemathesis.hook
def before_call(context, case, kwargs):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("send_at"), str) and case.method.upper() == "POST" and _path(case) == "/v1/announcements":
        ahead = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
        body["send_at"] = ahead.strftime("%Y-%m-%dT%H:%M:%SZ")
        if isinstance(kwargs.get("json"), dict):
            kwargs["json"]["send_at"] = body["send_at"]
    if not case.query:
        return
    valid = issued.get(_path(case), set())
    for holder in _query_holders(case.query):
        if "cursor" in holder and holder["cursor"] not in valid:
            del holder["cursor"]
    params = kwargs.get("params")
    if isinstance(params, dict) and "cursor" in params and params["cursor"] not in valid:
        del params["cursor"]


@schemathesis.hook
def after_call(context, case, response):
    if response.status_code != 200:
        return
    try:
        cursor = response.json().get("next_cursor")
    except Exception:
        return
    if isinstance(cursor, str):
        issued.setdefault(_path(case), set()).add(cursor)
