"""Restart policies and Docker's growing back-off."""

INITIAL_DELAY = 0.1  # seconds
MAX_DELAY = 60.0
RESET_AFTER = 10.0  # a run this long resets the back-off


def should_restart(policy, exit_code, restart_count, manually_stopped):
    name = (policy or {}).get("Name") or "no"
    if manually_stopped or name == "no":
        return False
    if name in ("always", "unless-stopped"):
        return True
    if name == "on-failure":
        limit = policy.get("MaximumRetryCount") or 0
        return exit_code != 0 and (limit == 0 or restart_count < limit)
    return False


class Backoff:
    """100 ms, doubling per restart, back to 100 ms after a run of 10 s or more."""

    def __init__(self):
        self.delay = 0.0

    def next(self, ran_for):
        if ran_for >= RESET_AFTER or self.delay == 0.0:
            self.delay = INITIAL_DELAY
        else:
            self.delay = min(self.delay * 2, MAX_DELAY)
        return self.delay
