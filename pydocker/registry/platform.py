"""Platforms (``os/arch[/variant]``) and choosing an image from a multi-platform index."""

import platform as host_platform
import re
from dataclasses import dataclass

from pydocker.errdefs import InvalidParameter, NotFound

_ARCH_ALIASES = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "armhf": "arm",
                 "armel": "arm", "i386": "386"}
# The variant an architecture implies when none is written (containerd's normalisation).
_DEFAULT_VARIANTS = {"arm64": "v8", "arm": "v7"}
# The older ARM variants a CPU of each variant runs as they are (containerd's platforms.Only).
_OLDER_ARM = {"v8": ("v7", "v6", "v5"), "v7": ("v6", "v5"), "v6": ("v5",)}
# containerd's syntax: what a component may hold, and what one component alone may name.
_COMPONENT = re.compile(r"^[A-Za-z0-9_.-]+$")
_KNOWN_OS = {"aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios", "js", "linux",
             "nacl", "netbsd", "openbsd", "plan9", "solaris", "windows", "zos"}
_KNOWN_ARCH = {"386", "amd64", "amd64p32", "arm", "armbe", "arm64", "arm64be", "ppc64", "ppc64le",
               "loong64", "mips", "mipsle", "mips64", "mips64le", "mips64p32", "mips64p32le", "ppc",
               "riscv", "riscv64", "s390", "s390x", "sparc", "sparc64", "wasm"}


@dataclass(frozen=True)
class Platform:
    os: str = "linux"
    architecture: str = "amd64"
    variant: str | None = None

    @classmethod
    def parse(cls, text):
        """``linux``, ``linux/arm64``, ``linux/arm64/v8``; ``None`` or ``""`` is linux/amd64."""
        if not text:
            return cls()
        parts = text.lower().split("/")
        if len(parts) > 3 or not all(_COMPONENT.match(part) for part in parts):
            raise InvalidParameter(f"invalid platform {text!r}: expected os[/arch[/variant]]")
        if len(parts) == 1:
            if parts[0] in _KNOWN_OS:
                return cls(parts[0]).normalized()
            arch = _ARCH_ALIASES.get(parts[0], parts[0])
            if arch in _KNOWN_ARCH:
                return cls("linux", arch).normalized()
            raise InvalidParameter(f"invalid platform {text!r}: unknown operating system or architecture")
        return cls(*parts).normalized()

    @classmethod
    def host(cls):
        """The platform of this machine, the one its containers run."""
        return cls("linux", host_platform.machine()).normalized()

    @classmethod
    def of_image(cls, config):
        """The platform an image config declares; its variant stays None when it names none
        (what ``accepts`` needs to tell apart)."""
        declared = cls(config.get("os") or "", config.get("architecture") or "", config.get("variant") or None)
        normal = declared.normalized()
        return normal if declared.variant else Platform(normal.os, normal.architecture)

    def accepts(self, image):
        """Whether an image of platform ``image`` (``of_image``) serves a request for this one:
        the same, an older ARM variant, or this os and architecture with no variant named
        (dockerd's OnlyPlatformWithFallback)."""
        if (image.os, image.architecture) != (self.os, self.architecture):
            return False
        if image.variant is None or image.variant == self.variant:
            return True
        return self.architecture == "arm" and image.variant in _OLDER_ARM.get(self.variant, ())

    def normalized(self):
        arch = _ARCH_ALIASES.get(self.architecture, self.architecture)
        variant = self.variant
        if arch == "arm64" and variant == "8":
            variant = "v8"
        if variant is None:
            variant = _DEFAULT_VARIANTS.get(arch)
        return Platform(self.os, arch, variant)

    def matches(self, descriptor_platform):
        """Whether an index entry's ``platform`` object describes this platform."""
        other = Platform(descriptor_platform.get("os", ""),
                         descriptor_platform.get("architecture", ""),
                         descriptor_platform.get("variant")).normalized()
        return (other.os, other.architecture, other.variant) == (self.os, self.architecture,
                                                                 self.variant)

    def __str__(self):
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


def select_manifest(index, platform):
    """Return the descriptor of ``index``'s entry for ``platform`` (first match wins)."""
    for descriptor in index.get("manifests", []):
        if platform.matches(descriptor.get("platform") or {}):
            return descriptor
    raise NotFound(f"no matching manifest for {platform} in the manifest list entries")
