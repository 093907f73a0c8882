"""The event bus behind ``GET /events``.

Events are kept in a bounded history (for ``since``) and pushed to live
subscribers. Each event carries the modern shape (Type, Action, Actor, scope,
time, timeNano) and, for containers and images, the legacy status/id/from.
"""

import collections
import time


class EventFilter:
    """Docker's event filters: type, event/action, container, image, network,
    volume, label, daemon, scope; several values of one key are OR-ed, keys are AND-ed."""

    def __init__(self, filters=None):
        self.filters = {key: set(values) for key, values in (filters or {}).items()}

    def matches(self, event):
        f = self.filters
        actor = event["Actor"]
        attrs = actor.get("Attributes", {})
        if "type" in f and event["Type"] not in f["type"]:
            return False
        if "event" in f and event["Action"] not in f["event"] and event["Action"].split(":")[0] not in f["event"]:
            return False
        if "scope" in f and event.get("scope") not in f["scope"]:
            return False
        for kind in ("container", "image", "network", "volume", "daemon", "plugin", "config", "node", "secret", "service"):
            if kind in f:
                if event["Type"] != kind:
                    return False
                names = {actor.get("ID", ""), attrs.get("name", "")}
                if kind == "image":
                    names.add(attrs.get("image", ""))
                # Moby's FuzzyMatch: an exact value or a prefix of the ID or name.
                if not any(n and n.startswith(v) for v in f[kind] for n in names):
                    return False
        if "label" in f:
            for spec in f["label"]:
                key, eq, value = spec.partition("=")
                if key not in attrs or (eq and attrs[key] != value):
                    return False
        return True


class EventBus:
    """Publish/subscribe with a history ring, as dockerd's events service."""

    HISTORY = 1024

    def __init__(self, clock=time.time):
        self._clock = clock
        self._history = collections.deque(maxlen=self.HISTORY)
        self._subscribers = set()

    def publish(self, type_, action, actor_id, attributes=None, scope="local"):
        now = self._clock()
        nano = int(now * 1e9)
        event = {
            "Type": type_,
            "Action": action,
            "Actor": {"ID": actor_id, "Attributes": dict(attributes or {})},
            "scope": scope,
            "time": nano // 1_000_000_000,
            "timeNano": nano,
        }
        if type_ in ("container", "image"):
            event["status"] = action
            event["id"] = actor_id
            if type_ == "container" and "image" in event["Actor"]["Attributes"]:
                event["from"] = event["Actor"]["Attributes"]["image"]
        self._history.append(event)
        for callback in list(self._subscribers):
            callback(event)
        return event

    def history(self, since_nano=None, until_nano=None):
        """Past events in order, within [since, until]."""
        return [e for e in self._history
                if (since_nano is None or e["timeNano"] >= since_nano)
                and (until_nano is None or e["timeNano"] <= until_nano)]

    def listener_count(self):
        """How many streams follow the events (``info``'s NEventsListener)."""
        return len(self._subscribers)

    def subscribe(self, callback):
        self._subscribers.add(callback)
        return lambda: self._subscribers.discard(callback)
