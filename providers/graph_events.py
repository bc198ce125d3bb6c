"""Microsoft Graph event resources as `CalendarEvent`s.

Graph writes times as a dateTimeTimeZone pair without an offset ("2026-11-20T15:00:00.0000000"
with "timeZone": "UTC" unless a Prefer header asked for another zone); the zone may be an IANA
or a Windows name. The signed-in user's own answer is `responseStatus`, and the user is not
always among `attendees`: then an attendee is added for them, so that detection sees the answer.
Outlook never lists the organizer among `attendees`, attending or not. When nobody else is
invited (a one-to-one call the interviewer set up) the organizer is taken as attending; when
others are, the organizer is taken for someone who only scheduled it (a recruiter), as an
iCalendar ORGANIZER who is not also an ATTENDEE is.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from mailagent.core.detect import UserIdentity
from mailagent.core.models import (
    SNIPPET_LIMIT,
    Attendee,
    CalendarEvent,
    EventStatus,
    Person,
    ResponseStatus,
)
from providers.ical import named_zone, video_links

RESPONSES = {
    "none": ResponseStatus.NEEDS_ACTION,
    "notresponded": ResponseStatus.NEEDS_ACTION,
    "organizer": ResponseStatus.ACCEPTED,
    "accepted": ResponseStatus.ACCEPTED,
    "tentativelyaccepted": ResponseStatus.TENTATIVE,
    "declined": ResponseStatus.DECLINED,
}


def _zone(name: str) -> ZoneInfo:
    """An IANA or Windows zone name ("Pacific Standard Time"); UTC when unknown."""
    if not name or name.upper() == "UTC":
        return ZoneInfo("UTC")
    return named_zone(name) or ZoneInfo("UTC")


def graph_time(value: Mapping[str, Any]) -> datetime:
    text = str(value["dateTime"]).replace("Z", "")
    if "." in text:  # seven fractional digits: more than fromisoformat takes
        head, _, fraction = text.partition(".")
        text = f"{head}.{fraction[:6]}"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_zone(str(value.get("timeZone", "UTC"))))
    return moment


def _person(value: object) -> Person | None:
    if not isinstance(value, Mapping):
        return None
    address = value.get("emailAddress")
    if not isinstance(address, Mapping) or not address.get("address"):
        return None
    return Person(str(address.get("name") or ""), str(address["address"]).lower())


def _response(value: object) -> ResponseStatus:
    if isinstance(value, Mapping):
        return RESPONSES.get(str(value.get("response", "")).lower(), ResponseStatus.UNKNOWN)
    return ResponseStatus.UNKNOWN


def event_from_graph(
    resource: Mapping[str, Any], user: UserIdentity, zone: ZoneInfo
) -> CalendarEvent:
    """Raises KeyError or ValueError for an event without readable times."""
    start, end = graph_time(resource["start"]), graph_time(resource["end"])
    all_day = bool(resource.get("isAllDay"))
    if all_day:  # midnight to midnight in the user's zone, as the other providers give it
        start = datetime.combine(start.astimezone(UTC).date(), datetime.min.time(), zone)
        end = datetime.combine(end.astimezone(UTC).date(), datetime.min.time(), zone)
        if end <= start:
            end = start + timedelta(days=1)
    organizer = _person(resource.get("organizer"))
    attendees: list[Attendee] = []
    for item in resource.get("attendees") or ():
        person = _person(item)
        if person is None:
            continue
        attendees.append(
            Attendee(
                person.name,
                person.address,
                organizer=organizer is not None and person.address == organizer.address,
                response=_response(item.get("status")),
                resource=item.get("type") == "resource",
                optional=item.get("type") == "optional",
            )
        )
    others = [a for a in attendees if not user.is_user(a.address)]
    if organizer is not None and not user.is_user(organizer.address) and not others:
        attendees.insert(
            0,
            Attendee(
                organizer.name, organizer.address, organizer=True, response=ResponseStatus.ACCEPTED
            ),
        )
    own = _response(resource.get("responseStatus"))
    if not any(user.is_user(a.address) for a in attendees):
        attendees.insert(
            0,
            Attendee(
                user.name,
                user.address.lower(),
                organizer=bool(resource.get("isOrganizer")),
                response=own,
            ),
        )
    urls: list[str] = []
    meeting = resource.get("onlineMeeting")
    if isinstance(meeting, Mapping) and meeting.get("joinUrl"):
        urls.append(str(meeting["joinUrl"]))
    location = resource.get("location")
    place = str(location.get("displayName", "")) if isinstance(location, Mapping) else ""
    body = resource.get("body")
    text = str(body.get("content", "")) if isinstance(body, Mapping) else ""
    for source in (place, text):
        urls.extend(video_links(source))
    return CalendarEvent(
        id=str(resource["id"]),
        uid=calendar_uid(str(resource.get("iCalUId") or resource["id"])),
        title=str(resource.get("subject") or ""),
        start=start,
        end=end,
        all_day=all_day,
        status=EventStatus.CANCELLED if resource.get("isCancelled") else EventStatus.CONFIRMED,
        organizer=organizer,
        attendees=tuple(attendees),
        description=text[:SNIPPET_LIMIT],
        location=place,
        conference_urls=tuple(dict.fromkeys(urls)),
        recurring=resource.get("type") in ("occurrence", "exception"),
        recurrence_id=None,
    )


_GOID_CLASS = bytes.fromhex("040000008200E00074C5B7101A82E008")
_VCAL_UID = b"vCal-Uid\x01\x00\x00\x00"


def calendar_uid(ical_uid: str) -> str:
    """The iCalendar UID of an event whose Graph `iCalUId` is `ical_uid`. Exchange gives an
    invitation from another system (Google, a recruiting tool) a Global Object ID that wraps
    that system's UID after "vCal-Uid" (MS-OXOCAL 2.2.1.27: class id, instance date, creation
    time, 8 reserved bytes, a little-endian size, then the data); the UID is what the emailed
    invitation carries, so that it can be merged with its mail. Any other id is kept."""
    try:
        data = bytes.fromhex(ical_uid)
    except ValueError:
        return ical_uid
    if len(data) < 40 or not data.startswith(_GOID_CLASS):
        return ical_uid
    size = int.from_bytes(data[36:40], "little")
    payload = data[40 : 40 + size]
    if len(payload) != size or not payload.startswith(_VCAL_UID):
        return ical_uid
    uid = payload[len(_VCAL_UID) :].split(b"\x00", 1)[0]
    try:
        return uid.decode("utf-8") or ical_uid
    except UnicodeDecodeError:
        return ical_uid
