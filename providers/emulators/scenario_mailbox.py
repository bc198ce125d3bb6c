"""What both emulators' scenario mailboxes share: `EmulatorScenarioMailbox` materializes a
scenario as of a moment (mail whose date has passed arrives once; the calendar is brought to
what the scenario shows then, putting changed events and deleting gone ones) and passes the
user's draft actions to the emulator by the agent's key.

Each emulator's mailbox says how a message arrives, what an event resource looks like, when a
held event differs from the wanted one, how a draft is found by key, and how drafts read back
(`google_scenario.GoogleScenarioMailbox`, `graph_scenario.GraphScenarioMailbox`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    from mailagent.core.models import CalendarEvent
    from mailagent.scenario import MessageSpec, Scenario

__all__ = ["EmulatorScenarioMailbox", "ScenarioEmulator"]


class ScenarioEmulator(Protocol):
    """The in-process emulator API a scenario mailbox drives."""

    now: datetime

    def events(self) -> list[dict[str, Any]]: ...

    def put_event(self, resource: dict[str, Any]) -> dict[str, Any]: ...

    def delete_event(self, event_id: str) -> None: ...

    def user_send_draft(self, draft_id: str, at: datetime) -> str: ...

    def user_edit_draft(self, draft_id: str, text: str) -> object: ...

    def user_delete_draft(self, draft_id: str) -> object: ...


EmulatorT = TypeVar("EmulatorT", bound=ScenarioEmulator)


@dataclass
class EmulatorScenarioMailbox(Generic[EmulatorT]):
    """A `mailagent.scenario.ScenarioMailbox` on an emulator; `delivered` holds the ids of the
    scenario messages already delivered."""

    emulator: EmulatorT
    delivered: set[str] = field(default_factory=set)

    def materialize(self, scenario: Scenario, moment: datetime) -> None:
        emulator = self.emulator
        emulator.now = moment
        for spec in scenario.spec.messages:
            if spec.id in self.delivered or scenario.local(spec.date) > moment:
                continue
            self._deliver(scenario, spec)
            self.delivered.add(spec.id)
        user = scenario.spec.user.address.lower()
        wanted = {}
        for event in scenario.events_at(moment):
            resource = self._event_resource(event, user)
            wanted[resource["id"]] = resource
        held = {e["id"]: e for e in emulator.events()}
        for event_id, resource in wanted.items():
            current = held.get(event_id)
            if current is None or self._differs(current, resource):
                emulator.put_event(resource)
        for event_id in held.keys() - wanted.keys():
            emulator.delete_event(event_id)

    def send_draft(self, key: str, moment: datetime) -> None:
        self.emulator.user_send_draft(self._draft_id(key), moment)

    def edit_draft(self, key: str, text: str) -> None:
        self.emulator.user_edit_draft(self._draft_id(key), text)

    def delete_draft(self, key: str) -> None:
        self.emulator.user_delete_draft(self._draft_id(key))

    # -- what each emulator says --

    def _deliver(self, scenario: Scenario, spec: MessageSpec) -> None:
        """Deliver one scenario message (its date has passed)."""
        raise NotImplementedError

    def _event_resource(self, event: CalendarEvent, user: str) -> dict[str, Any]:
        """The emulator's event resource for one scenario event, as `user` sees it."""
        raise NotImplementedError

    def _differs(self, held: dict[str, Any], wanted: dict[str, Any]) -> bool:
        """Whether the stored event `held` must be replaced by `wanted`."""
        raise NotImplementedError

    def _draft_id(self, key: str) -> str:
        """The id of the draft carrying the agent's `key`; LookupError when there is none."""
        raise NotImplementedError
