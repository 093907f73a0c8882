"""``pydocker -d``: parse the configuration, prepare the daemon, run the reactor."""

import signal
import sys

from pydocker.errdefs import PydockerError

EXIT_CONFIG = 1


def main(argv):
    from pydocker.daemon import config as configmod
    try:
        config = configmod.load(argv)
    except PydockerError as e:
        print(f"pydocker: {e}", file=sys.stderr)
        return EXIT_CONFIG
    except SystemExit as e:  # argparse: --help or a usage error
        return e.code

    from twisted.internet import reactor

    from pydocker.daemon import logging as daemonlog
    from pydocker.daemon.service import Daemon

    daemonlog.start(config.log_level)
    daemon = Daemon(config, reactor)
    try:
        daemon.prepare()
    except PydockerError as e:
        daemon.abandon()
        print(f"pydocker: {e}", file=sys.stderr)
        return EXIT_CONFIG
    status = {"code": 0}

    def started_failed(failure):
        print(f"pydocker: cannot start: {failure.getErrorMessage()}", file=sys.stderr)
        status["code"] = 1
        reactor.stop()

    def start():
        from twisted.internet import defer
        defer.maybeDeferred(daemon.startService).addErrback(started_failed)

    def reload(*_):
        try:
            new = configmod.load(argv)
        except PydockerError as e:
            daemon.log.error("reload failed, configuration kept: {e}", e=e)
            return
        daemonlog.set_level(new.log_level)
        daemon.reload(new)

    def stop_once(signame):
        """A second SIGTERM or ^C while the daemon stops is noted, not an error."""
        if status.get("stopping"):
            daemon.log.info("{sig} again: the daemon is already shutting down", sig=signame)
            return
        status["stopping"] = True
        daemon.log.info("Received {sig}, shutting down.", sig=signame)
        reactor.stop()

    def install_stop_signals():
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, lambda n, _: reactor.callFromThread(stop_once, signal.Signals(n).name))

    reactor.callWhenRunning(start)
    reactor.callWhenRunning(install_stop_signals)
    reactor.addSystemEventTrigger("before", "shutdown", daemon.stopService)
    signal.signal(signal.SIGHUP, lambda *_: reactor.callFromThread(reload))
    reactor.run()
    return status["code"]
