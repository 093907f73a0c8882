"""The none driver: output is dropped, and ``logs`` says there is nothing to read."""

from zope.interface import implementer

from pydocker.errdefs import InvalidParameter
from pydocker.logdrivers.interfaces import ILogDriver


@implementer(ILogDriver)
class NoneDriver:
    name = "none"
    readable = False

    def validate(self, options):
        if options:
            raise InvalidParameter(f"unknown log opt '{sorted(options)[0]}' for none log driver")

    def open(self, container, log_path, options):
        return None
