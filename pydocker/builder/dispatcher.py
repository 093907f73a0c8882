"""Running a Dockerfile's steps, writing dockerd's classic build stream.

Each step is a named job reached through ``steps`` (see ``pydocker/jobs/build.py``):
a RUN is a container created, attached, started, waited for, committed and removed;
COPY, ADD and WORKDIR make a layer (``build.copy``); the other instructions derive
an image with a new config and no layer (``image.derive``). Before a step runs, the
classic cache looks for a local child image made by the same step
(``image.cache_probe``); the first miss ends the cache for the stage.
"""

import copy
import json
import posixpath
import re
from dataclasses import dataclass, field

from twisted.internet import defer

from pydocker.builder import context as buildcontext
from pydocker.builder import parser
from pydocker.builder.instructions import check_line
from pydocker.builder.shellwords import env_map, expand, expand_words, split_keeping_quotes
from pydocker.errdefs import InvalidParameter, NotFound, PydockerError

DEFAULT_SHELL = ["/bin/sh", "-c"]
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_DURATION_UNITS = {"ns": 1, "us": 1e3, "µs": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9}
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


def go_quote_list(values):
    """A Go ``%q`` of a []string, as dockerd writes CMD and ENTRYPOINT into the history."""
    return "[" + " ".join(json.dumps(v, ensure_ascii=False) for v in values) + "]"


def go_list(values):
    """A Go ``%v`` of a []string."""
    return "[" + " ".join(values) + "]"


def go_duration(ns):
    """A Go time.Duration's String(): 0s, 500ms, 30s, 1m30s, 1h0m0s."""
    if ns == 0:
        return "0s"
    if ns < 10**9:
        for unit, size in (("ms", 10**6), ("µs", 10**3), ("ns", 1)):
            if ns >= size:
                return f"{ns / size:g}{unit}"
    hours, rest = divmod(ns, 3600 * 10**9)
    minutes, rest = divmod(rest, 60 * 10**9)
    seconds = f"{rest / 10**9:.9f}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{hours}h{minutes}m{seconds}"
    return f"{minutes}m{seconds}" if minutes else seconds


def go_rune(n):
    """Go's %q of an int: a quoted rune ('\x00', 'a')."""
    named = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r"}
    if n in named:
        return f"'{named[n]}'"
    if 32 <= n < 127:
        return "'\\''" if n == 39 else f"'{chr(n)}'"
    return f"'\\x{n:02x}'" if n < 256 else f"'\\u{n:04x}'"


def go_healthcheck(check):
    """HEALTHCHECK's history text: Go's %q of dockerd's HealthConfig struct."""
    durations = " ".join(f'"{go_duration(check.get(key) or 0)}"' for key in ("Interval", "Timeout", "StartPeriod"))
    return f"&{{{go_quote_list(check['Test'])} {durations} {go_rune(check.get('Retries') or 0)}}}"


def parse_duration(text, flag):
    """A Go duration ("30s", "1m30s") in nanoseconds."""
    if text in ("", "0"):
        return 0
    pos, total = 0, 0.0
    for m in _DURATION.finditer(text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _DURATION_UNITS[m.group(2)]
        pos = m.end()
    if pos != len(text) or not text:
        raise InvalidParameter(f"time: invalid duration \"{text}\" for --{flag}")
    return int(total)


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


class Builder:
    """One build: its output, its options, its context directory and its program."""

    def __init__(self, steps, output, options, context_dir, program, escape="\\"):
        self.steps = steps
        self.output = output
        self.options = options
        self.context_dir = context_dir
        self.program = program
        self.escape = escape
        self.args = BuildArgs(options.build_args)
        self.stage_images = []  # image ID of each finished stage
        self.step = 0
        self.total = 0
        self.quiet_buffer = []
        self.cache_from = []
        self.cancelled = False
        self.running = None  # the container of the RUN step in progress
        output.on_close(self.cancel)

    # -- output ----------------------------------------------------------------------
    def say(self, text):
        message = {"stream": text}
        if self.options.quiet:
            self.quiet_buffer.append(message)
        else:
            self.output.emit(message)

    def _step_line(self, line):
        self.step += 1
        self.say(f"Step {self.step}/{self.total} : {line}\n")

    def cancel(self):
        """The client went away: stop the running step; the build ends at the next check."""
        self.cancelled = True
        if self.running is not None:
            self.steps.kill(self.running)

    def _started(self, container_id):
        """A cancel that came while the container was starting could not kill it yet."""
        if self.cancelled:
            self.steps.kill(container_id)

    def _check_cancelled(self):
        if self.cancelled:
            raise StepFailed("Build cancelled")

    # -- the build -------------------------------------------------------------------
    @defer.inlineCallbacks
    def run(self):
        """Run the program; return the final image ID (the stream carries the rest)."""
        try:
            image_id = yield self._build()
        except Exception:
            self._flush_quiet()
            raise
        if self.options.quiet:
            self.output.emit({"stream": image_id + "\n"})
        else:
            self.say(f"Successfully built {short(image_id)}\n")
        for ref in self.options.tags:
            yield self.steps.tag(image_id, ref)
            if not self.options.quiet:
                self.say(f"Successfully tagged {ref.familiar()}\n")
        return image_id

    def _flush_quiet(self):
        for message in self.quiet_buffer:
            self.output.emit(message)
        self.quiet_buffer = []

    @defer.inlineCallbacks
    def _build(self):
        stages = self.program.stages
        if self.options.target:
            index = self.program.stage_index(self.options.target)
            if index is None:
                raise InvalidParameter(f"failed to reach build target {self.options.target} in Dockerfile")
            stages = stages[:index + 1]
        stages = [copy.copy(s) for s in stages]
        stages[-1].commands = list(stages[-1].commands) + self._label_lines()
        self.total = len(self.program.meta_args) + sum(1 + len(s.commands) for s in stages)
        self.cache_from = yield self._cache_sources()
        for line in self.program.meta_args:
            self._step_line(line)
            name, default = self._meta_arg(line)
            self.args.meta[name] = self.args.value(name, default)
        state = None
        for stage in stages:
            self._check_cancelled()
            self._step_line(stage.line)
            state = yield self._from(stage)
            self.say(f" ---> {short(state.image_id)}\n")
            for line in stage.commands:
                self._check_cancelled()
                self._step_line(line)
                yield self._dispatch(state, line)
                self.say(f" ---> {short(state.image_id)}\n")
            if self.options.aux and state.image_id:
                message = {"aux": {"ID": state.image_id}}
                self.quiet_buffer.append(message) if self.options.quiet else self.output.emit(message)
            self.stage_images.append(state.image_id)
        unused = self.args.unused()
        if unused:
            self.say(f"[Warning] One or more build-args [{' '.join(unused)}] were not consumed\n")
        if not state.image_id:
            raise StepFailed("No image was generated. Is your Dockerfile empty?")
        return state.image_id

    @defer.inlineCallbacks
    def _cache_sources(self):
        """The image IDs of --cache-from; a name not found is skipped, as dockerd does."""
        found = []
        for name in self.options.cache_from:
            try:
                document = yield self.steps.inspect_image(name)
            except NotFound:
                continue
            found.append(document["Id"])
        return found

    def _label_lines(self):
        lines = []
        for key in sorted(self.options.labels):
            text = f"LABEL {json.dumps(key)}={json.dumps(self.options.labels[key])}"
            lines.append(parser.Line("label", text[6:], original=text))
        return lines

    # -- FROM ------------------------------------------------------------------------
    @defer.inlineCallbacks
    def _from(self, stage):
        meta = {k: v for k, v in self.args.meta.items() if v is not None}
        base = expand(stage.base, meta, self.escape)
        if not base:
            raise StepFailed(f"base name ({stage.base}) should not be blank")
        state = State()
        index = self.program.stage_index(base)
        if index is None and base.isdigit():
            index = int(base)
        if index is not None and index < len(self.stage_images):
            state.image_id = self.stage_images[index]
        elif base.lower() == "scratch":
            state.config = new_config()
            _default_path(state.config)
            return state
        else:
            state.image_id = yield self._base_image(base)
        document = yield self.steps.inspect_image(state.image_id)
        state.config = dict(new_config(), **(document.get("Config") or {}))
        state.config["Image"] = state.image_id
        _default_path(state.config)
        triggers = list(state.config.get("OnBuild") or [])
        if triggers:
            self.say(f"# Executing {len(triggers)} build trigger{'s' if len(triggers) > 1 else ''}\n")
            state.config["OnBuild"] = None
            for text in triggers:
                trigger = parser.parse(text).lines[0]
                check_line(trigger)
                if trigger.keyword in ("onbuild", "from", "maintainer"):
                    raise StepFailed(f"{trigger.keyword.upper()} isn't allowed as an ONBUILD trigger")
                yield self._dispatch(state, trigger)
        return state

    @defer.inlineCallbacks
    def _base_image(self, name):
        if not self.options.pull:
            try:
                document = yield self.steps.inspect_image(name)
                return document["Id"]
            except NotFound:
                pass
        yield self.steps.pull(name, self.output if not self.options.quiet else None)
        document = yield self.steps.inspect_image(name)
        return document["Id"]

    # -- dispatch --------------------------------------------------------------------
    def _dispatch(self, state, line):
        handler = getattr(self, "_do_" + line.keyword)
        return defer.maybeDeferred(handler, state, line)

    def _words(self, state, line):
        """The arguments of ``line``: its JSON array, else its words, expanded."""
        env = state.expansion_env()
        if line.json_args is not None:
            return [expand(w, env, self.escape) for w in line.json_args]
        return expand_words(line.rest, env, self.escape)

    def _command(self, state, line):
        """RUN, CMD, ENTRYPOINT: the exec form as is, else the shell form."""
        if line.json_args is not None:
            return list(line.json_args)
        return state.shell() + [line.rest]

    @defer.inlineCallbacks
    def _commit_nop(self, state, comment):
        """A metadata step: a child image with the new config, or the cached one."""
        cmd = state.shell() + ["#(nop) ", comment]
        step_config = dict(state.config, Cmd=cmd)
        if (yield self._probe(state, step_config)):
            return
        result = yield self.steps.derive(parent=state.image_id, config=copy.deepcopy(state.config),
                                         container_config=step_config, created_by=" ".join(cmd),
                                         author=state.maintainer)
        state.image_id = result["Id"]

    @defer.inlineCallbacks
    def _probe(self, state, step_config):
        if self.options.nocache or not state.cache_on:
            return False
        found = yield self.steps.probe(state.image_id, step_config, copy.deepcopy(state.config), self.cache_from)
        if found is None:
            state.cache_on = False
            return False
        self.say(" ---> Using cache\n")
        state.image_id = found
        return True

    def _do_env(self, state, line):
        pairs = self._pairs(state, line)
        env = state.env()
        for key, value in pairs:
            env = [e for e in env if e.split("=", 1)[0] != key] + [f"{key}={value}"]
        state.config["Env"] = env
        return self._commit_nop(state, "ENV " + " ".join(f"{k}={v}" for k, v in pairs))

    def _do_label(self, state, line):
        pairs = self._pairs(state, line)
        labels = dict(state.config.get("Labels") or {})
        labels.update(pairs)
        state.config["Labels"] = labels
        return self._commit_nop(state, "LABEL " + " ".join(f"{k}={v}" for k, v in pairs))

    def _pairs(self, state, line):
        """KEY=VALUE pairs (or the legacy ``KEY VALUE``), expanded; the syntax was checked
        before the build started (``instructions.check_line``)."""
        env = state.expansion_env()
        words = split_keeping_quotes(line.rest, self.escape)
        if "=" not in words[0]:
            key, value = line.rest.split(None, 1)
            return [(key, expand(value.strip(), env, self.escape))]
        pairs = []
        for word in words:
            key, _, value = word.partition("=")
            pairs.append((expand(key, env, self.escape), expand(value, env, self.escape)))
        return pairs

    def _do_maintainer(self, state, line):
        state.maintainer = line.rest
        return self._commit_nop(state, "MAINTAINER " + line.rest)

    def _do_expose(self, state, line):
        ports = dict(state.config.get("ExposedPorts") or {})
        added = set()
        for word in self._words(state, line):
            number, _, proto = word.partition("/")
            low, dash, high = number.partition("-")
            if not low.isdigit() or (dash and not high.isdigit()) or proto.lower() not in ("", "tcp", "udp", "sctp"):
                raise StepFailed(f"Invalid containerPort: {word}")
            for port in range(int(low), int(high or low) + 1):
                added.add(f"{port}/{proto.lower() or 'tcp'}")
        state.config["ExposedPorts"] = dict(ports, **{port: {} for port in added})
        return self._commit_nop(state, "EXPOSE " + " ".join(sorted(added)))

    def _do_user(self, state, line):
        state.config["User"] = expand(line.rest, state.expansion_env(), self.escape)
        return self._commit_nop(state, "USER " + state.config["User"])

    def _do_volume(self, state, line):
        paths = self._words(state, line)
        volumes = dict(state.config.get("Volumes") or {})
        for path in paths:
            if not path.strip():
                raise StepFailed("VOLUME specified can not be an empty string")
            volumes[path] = {}
        state.config["Volumes"] = volumes
        return self._commit_nop(state, "VOLUME " + go_list(paths))

    def _do_stopsignal(self, state, line):
        state.config["StopSignal"] = expand(line.rest, state.expansion_env(), self.escape)
        return self._commit_nop(state, "STOPSIGNAL " + state.config["StopSignal"])

    def _do_shell(self, state, line):
        state.config["Shell"] = list(line.json_args)
        return self._commit_nop(state, "SHELL " + go_list(line.json_args))

    def _do_cmd(self, state, line):
        state.config["Cmd"] = self._command(state, line)
        state.cmd_set = True
        if line.json_args is None:
            state.config["ArgsEscaped"] = True
        return self._commit_nop(state, "CMD " + go_quote_list(state.config["Cmd"]))

    def _do_entrypoint(self, state, line):
        state.config["Entrypoint"] = self._command(state, line) if (line.json_args or line.rest) else None
        if not state.cmd_set:
            state.config["Cmd"] = None
        return self._commit_nop(state, "ENTRYPOINT " + go_quote_list(state.config["Entrypoint"] or []))

    def _do_onbuild(self, state, line):
        trigger = line.rest
        state.config["OnBuild"] = list(state.config.get("OnBuild") or []) + [trigger]
        return self._commit_nop(state, "ONBUILD " + trigger)

    def _do_healthcheck(self, state, line):
        word, _, rest = line.rest.partition(" ")
        if word.upper() == "NONE":
            if rest.strip():
                raise StepFailed("HEALTHCHECK NONE takes no arguments")
            state.config["Healthcheck"] = {"Test": ["NONE"]}
        elif word.upper() == "CMD":
            sub = parser.Line("cmd", rest.strip(), json_args=parser._json_array(rest.strip()))
            test = ["CMD"] + sub.json_args if sub.json_args is not None else ["CMD-SHELL", sub.rest]
            check = {"Test": test}
            for flag, key in (("interval", "Interval"), ("timeout", "Timeout"), ("start-period", "StartPeriod"),
                              ("start-interval", "StartInterval")):
                if flag in line.flags:
                    check[key] = parse_duration(line.flags[flag][-1], flag)
            if "retries" in line.flags:
                retries = line.flags["retries"][-1]
                if not retries.isdigit():
                    raise StepFailed(f"invalid value for --retries: {retries}")
                check["Retries"] = int(retries)
            state.config["Healthcheck"] = check
        else:
            raise StepFailed(f"Unknown type \"{word}\" in HEALTHCHECK (try CMD)")
        return self._commit_nop(state, "HEALTHCHECK " + go_healthcheck(state.config["Healthcheck"]))

    def _meta_arg(self, line):
        name, eq, default = line.rest.partition("=")
        meta = {k: v for k, v in self.args.meta.items() if v is not None}
        return name, expand(default, meta, self.escape) if eq else None

    def _do_arg(self, state, line):
        name, eq, default = line.rest.partition("=")
        env = state.expansion_env()
        if eq:
            value = expand(default, env, self.escape)
        else:
            value = self.args.meta.get(name)
        state.args[name] = self.args.value(name, value)
        return self._commit_nop(state, "ARG " + line.rest)

    def _do_workdir(self, state, line):
        path = expand(line.rest, state.expansion_env(), self.escape)
        state.config["WorkingDir"] = posixpath.normpath(posixpath.join(state.config.get("WorkingDir") or "/", path))
        comment = "WORKDIR " + state.config["WorkingDir"]
        return self._layer_step(state, comment, mkdir=state.config["WorkingDir"])

    # -- steps with a layer ----------------------------------------------------------
    @defer.inlineCallbacks
    def _layer_step(self, state, comment, **copy_request):
        cmd = state.shell() + ["#(nop) " + comment]
        step_config = dict(state.config, Cmd=cmd)
        if (yield self._probe(state, step_config)):
            return
        result = yield self.steps.copy(parent=state.image_id, config=copy.deepcopy(state.config),
                                       container_config=step_config, created_by=" ".join(cmd),
                                       author=state.maintainer, **copy_request)
        state.image_id = result["Id"]

    def _do_copy(self, state, line):
        return self._copy_or_add(state, line, "COPY")

    def _do_add(self, state, line):
        return self._copy_or_add(state, line, "ADD")

    @defer.inlineCallbacks
    def _copy_or_add(self, state, line, name):
        words = self._words(state, line)
        sources, dest = words[:-1], words[-1]
        written = dest  # the history shows the destination as written
        if not posixpath.isabs(dest):
            trailing = dest.endswith("/")
            dest = posixpath.join(state.config.get("WorkingDir") or "/", dest)
            dest = posixpath.normpath(dest) + ("/" if trailing and not dest.endswith("/") else "")
        env = state.expansion_env()
        chown = expand(line.flags["chown"][-1], env, self.escape) if "chown" in line.flags else ""
        request = {"dest": dest, "chown": chown, "extract_archives": name == "ADD"}
        try:
            if "from" in line.flags:
                source_image = yield self._copy_source_image(expand(line.flags["from"][-1], env, self.escape))
                key = f"image:{source_image}:" + ",".join(sources)
                request.update(sources=sources, source_image=source_image)
            else:
                urls = [s for s in sources if s.startswith(("http://", "https://"))]
                if urls and name == "COPY":
                    raise StepFailed("source can't be a URL for COPY")
                local = [s for s in sources if s not in urls]
                found = buildcontext.Sources(self.context_dir)
                paths = [p for s in local for p, _ in found.resolve(s)]
                if not paths and not urls:
                    raise StepFailed(f"{name} failed: no source files were specified")
                downloaded = yield self.steps.download(urls, self.context_dir) if urls else []
                hashes = yield self.steps.hash_sources(paths + [path for path, _ in downloaded])
                key = buildcontext.sources_hash(hashes)
                request.update(sources=local + [rel for _, rel in downloaded], source_root=self.context_dir)
                if urls:
                    request.update(mode=0o600)
            chown_text = f"--chown={chown} " if chown else ""
            yield self._layer_step(state, f"{name} {chown_text}{key} in {written} ", **request)
        except PydockerError as e:
            if isinstance(e, StepFailed):
                raise
            raise StepFailed(f"{name} failed: {e}") from None

    @defer.inlineCallbacks
    def _copy_source_image(self, ref):
        index = self.program.stage_index(ref)
        if index is None and ref.isdigit():
            index = int(ref)
        if index is not None:
            if index >= len(self.stage_images):
                raise StepFailed(f"invalid from flag value {ref}: refers to current build stage")
            return self.stage_images[index]
        image_id = yield self._base_image(ref)
        return image_id

    # -- RUN -------------------------------------------------------------------------
    @defer.inlineCallbacks
    def _do_run(self, state, line):
        if not state.image_id:
            raise StepFailed("Please provide a source image with `from` prior to run")
        command = self._command(state, line)
        extra = sorted(state.run_args())
        saved = ([f"|{len(extra)}"] + extra + command) if extra else command
        step_config = dict(state.config, Cmd=saved, Entrypoint=None)
        if line.json_args is None:
            step_config["ArgsEscaped"] = True
        if (yield self._probe(state, step_config)):
            return
        body = dict(copy.deepcopy(step_config), Cmd=command, Env=state.env() + extra, Entrypoint=[],
                    Healthcheck={"Test": ["NONE"]}, Image=state.image_id)
        body["HostConfig"] = dict(self.options.host_config, LogConfig={"Type": "none", "Config": {}})
        container_id = yield self.steps.create(body)
        self.say(f" ---> Running in {short(container_id)}\n")
        failed = True
        try:
            self.running = container_id
            self._check_cancelled()
            code = yield self.steps.run(container_id, lambda data: self.say(data.decode("utf-8", "replace")),
                                        started=self._started)
            self.running = None
            self._check_cancelled()
            if code != 0:
                raise StepFailed(f"The command '{' '.join(command)}' returned a non-zero code: {code}", code)
            result = yield self.steps.commit(container_id, config=copy.deepcopy(state.config),
                                             container_config=step_config, created_by=" ".join(saved),
                                             author=state.maintainer)
            state.image_id = result["Id"]
            failed = False
        finally:
            self.running = None
            if self.options.rm or self.options.forcerm or self.cancelled:
                yield self._remove(container_id, say=not failed or self.options.forcerm)

    @defer.inlineCallbacks
    def _remove(self, container_id, say=True):
        try:
            yield self.steps.remove(container_id)
        except PydockerError as e:
            self.say(f"Error removing intermediate container {short(container_id)}: {e}\n")
            return
        if say and not self.cancelled:
            self.say(f"Removing intermediate container {short(container_id)}\n")


def _default_path(config):
    """A stage without PATH gets the default one, as dockerd's beginStage does."""
    if "PATH" not in env_map(config.get("Env")):
        config["Env"] = list(config.get("Env") or []) + [f"PATH={DEFAULT_PATH}"]
