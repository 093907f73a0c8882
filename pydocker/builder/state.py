"""What a build carries from step to step: its options, its build args, each stage's state
(image, config, declared args), and the error a failed step reports in-band."""

from dataclasses import dataclass, field

from pydocker.builder.shellwords import env_map
from pydocker.errdefs import PydockerError

DEFAULT_SHELL = ["/bin/sh", "-c"]
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Build args every stage may use without declaring them, kept out of the history (dockerd's list).
PREDEFINED_ARGS = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
                   "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy")


class StepFailed(PydockerError):
    """A step failed once the stream started: reported in-band as dockerd words it."""

    def __init__(self, message, code=1):
        super().__init__(message)
        self.code = code


@dataclass
class BuildOptions:
    tags: list = field(default_factory=list)  # parsed references
    dockerfile: str = ""
    build_args: dict = field(default_factory=dict)  # name -> value or None
    labels: dict = field(default_factory=dict)
    target: str = ""
    nocache: bool = False
    rm: bool = True
    forcerm: bool = False
    pull: bool = False
    quiet: bool = False
    cache_from: list = field(default_factory=list)
    host_config: dict = field(default_factory=dict)  # networkmode, extrahosts, shmsize, limits
    platform: str = ""
    aux: bool = True  # API >= 1.30 gets the image ID as an aux message


def short(image_id):
    return image_id.split(":", 1)[-1][:12] if image_id else ""


class BuildArgs:
    """--build-arg values and which of them the Dockerfile declared (dockerd's BuildArgs)."""

    def __init__(self, given):
        self.given = dict(given)
        self.meta = {}
        self.referenced = set()

    def value(self, name, default):
        self.referenced.add(name)
        if name in self.given and self.given[name] is not None:
            return self.given[name]
        return default

    def unused(self):
        return sorted(n for n in self.given if n not in self.referenced and n not in PREDEFINED_ARGS)


@dataclass
class State:
    """One stage's progress: its image, its config, the args it declared."""

    image_id: str = ""
    config: dict = field(default_factory=dict)
    args: dict = field(default_factory=dict)  # declared in this stage: name -> value or None
    cmd_set: bool = False
    maintainer: str = ""
    cache_on: bool = True

    def env(self):
        return list(self.config.get("Env") or [])

    def shell(self):
        return list(self.config.get("Shell") or DEFAULT_SHELL)

    def run_args(self):
        """The declared args with a value, minus those an ENV sets: RUN's extra environment."""
        env_names = set(env_map(self.env()))
        return [f"{k}={v}" for k, v in self.args.items() if v is not None and k not in env_names]

    def expansion_env(self):
        values = {k: v for k, v in self.args.items() if v is not None}
        values.update(env_map(self.env()))
        return values


def new_config():
    return {"Hostname": "", "Domainname": "", "User": "", "AttachStdin": False, "AttachStdout": False,
            "AttachStderr": False, "Tty": False, "OpenStdin": False, "StdinOnce": False, "Env": None,
            "Cmd": None, "Image": "", "Volumes": None, "WorkingDir": "", "Entrypoint": None,
            "OnBuild": None, "Labels": None}


def default_path(config):
    """A stage without PATH gets the default one, as dockerd's beginStage does."""
    if "PATH" not in env_map(config.get("Env")):
        config["Env"] = list(config.get("Env") or []) + [f"PATH={DEFAULT_PATH}"]
