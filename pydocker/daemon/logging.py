"""Daemon log output: one line per event on stderr, filtered by --log-level."""

import sys
import time

from twisted.logger import (FilteringLogObserver, LogLevel, LogLevelFilterPredicate,
                            formatEvent, globalLogBeginner)

LEVELS = {
    "debug": LogLevel.debug, "info": LogLevel.info, "warn": LogLevel.warn,
    "error": LogLevel.error, "fatal": LogLevel.critical,
}

_predicate = LogLevelFilterPredicate(defaultLogLevel=LogLevel.info)


def _line(event):
    text = formatEvent(event)
    if "log_failure" in event:
        text = f"{text}\n{event['log_failure'].getTraceback()}"
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(event.get("log_time", time.time())))
    level = event.get("log_level", LogLevel.info).name
    return f"{stamp} {level:5} {text}\n"


def start(level, stream=sys.stderr):
    set_level(level)

    def observer(event):
        stream.write(_line(event))
        stream.flush()

    globalLogBeginner.beginLoggingTo([FilteringLogObserver(observer, [_predicate])],
                                     redirectStandardIO=False)


def set_level(level):
    _predicate.setLogLevelForNamespace("", LEVELS[level])
