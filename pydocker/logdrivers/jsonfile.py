"""The json-file driver: Docker's on-disk format, readable by ``logs`` (see containers.logs)."""

from zope.interface import implementer

from pydocker.containers import logs
from pydocker.logdrivers import attributes
from pydocker.logdrivers.interfaces import ILogDriver


@implementer(ILogDriver)
class JSONFileDriver:
    name = "json-file"
    readable = True

    def validate(self, options):
        logs.parse_options(options)

    def open(self, container, log_path, options):
        max_size, max_file = logs.parse_options(options)
        return logs.JSONFileWriter(log_path, max_size, max_file,
                                   attributes.of_container(container.config, options))
