"""Running a Dockerfile's steps, writing dockerd's classic build stream.

Each step is a named job reached through ``steps`` (see ``pydocker/jobs/build.py``):
a RUN is a container created, attached, started, waited for, committed and removed;
COPY, ADD and WORKDIR make a layer (``build.copy``); the other instructions derive
an image with a new config and no layer (``image.derive``). Before a step runs, the
classic cache looks for a local child image made by the same step
(``image.cache_probe``); the first miss ends the cache for the stage. The instructions
that only change the config are in ``config_steps``, COPY and ADD in ``copy_steps``; what
a build carries between steps is in ``state``.
"""

import copy
import json
import posixpath

from twisted.internet import defer

from pydocker.builder import parser
from pydocker.builder.config_steps import ConfigSteps
from pydocker.builder.copy_steps import CopySteps
from pydocker.builder.instructions import build_platform, check_line
from pydocker.builder.shellwords import expand, expand_words
from pydocker.builder.state import BuildArgs, BuildOptions, State, StepFailed, default_path, new_config, short
from pydocker.errdefs import InvalidParameter, NotFound, PydockerError
from pydocker.registry.platform import Platform

__all__ = ["Builder", "BuildOptions", "StepFailed"]


class Builder(ConfigSteps, CopySteps):
    """One build: its output, its options, its context directory and its program."""

    def __init__(self, steps, output, options, context, program, escape="\\"):
        self.steps = steps
        self.output = output
        self.options = options
        self.context = context  # the context's ContentHashes: its root and its files' digests
        self.context_dir = context.root
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
            default_path(state.config)
            return state
        else:
            state.image_id = yield self._base_image(base, self._platform(stage, meta))
        document = yield self.steps.inspect_image(state.image_id)
        state.config = dict(new_config(), **(document.get("Config") or {}))
        state.config["Image"] = state.image_id
        default_path(state.config)
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

    def _platform(self, stage, meta):
        """FROM --platform (build args expanded), checked as the ``platform`` query is; None
        without one."""
        if not stage.platform:
            return None
        text = expand(stage.platform, meta, self.escape)
        try:
            return build_platform(text)
        except InvalidParameter as e:
            raise StepFailed(f"dockerfile line {stage.line.lineno}: FROM --platform={text}: {e}") from None

    @defer.inlineCallbacks
    def _base_image(self, name, platform=None):
        """The image ID of ``name``: the local one (of ``platform`` when one is named), else
        pulled, as dockerd does for an image it does not hold for that platform."""
        if not self.options.pull:
            try:
                document = yield self.steps.inspect_image(name)
                if platform is None or platform.accepts(_platform_of(document)):
                    return document["Id"]
            except NotFound:
                pass
        yield self.steps.pull(name, self.output if not self.options.quiet else None, platform)
        document = yield self.steps.inspect_image(name)
        if platform is not None and not platform.accepts(_platform_of(document)):
            raise StepFailed(f"image with reference {name} was found but does not match the specified "
                             f"platform: wanted {platform}, actual: {_platform_of(document)}")
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
        yield self._beside_container(state, step_config, lambda: self.steps.derive(
            parent=state.image_id, config=copy.deepcopy(state.config), container_config=step_config,
            created_by=" ".join(cmd), author=state.maintainer))

    @defer.inlineCallbacks
    def _beside_container(self, state, step_config, make_image):
        """A metadata or WORKDIR step: dockerd creates, commits and removes a container for
        it (named in the stream, kept with --rm=false); here the container is created and
        removed the same way while ``make_image()`` derives the image from the parent's
        directly, since nothing runs in it. FROM scratch has nothing to create one from."""
        if not state.image_id:
            result = yield make_image()
        else:
            body = dict(copy.deepcopy(step_config), Image=state.image_id)
            result = yield self._intermediate(body, lambda _: make_image())
        state.image_id = result["Id"]

    @defer.inlineCallbacks
    def _intermediate(self, body, work):
        """``work(container_id)`` with dockerd's intermediate container: created from
        ``body``, named (``Running in``), then removed as --rm and --force-rm say."""
        body["HostConfig"] = dict(self.options.host_config, LogConfig={"Type": "none", "Config": {}})
        container_id = yield self.steps.create(body)
        self.say(f" ---> Running in {short(container_id)}\n")
        failed = True
        try:
            result = yield work(container_id)
            failed = False
        finally:
            if self.options.rm or self.options.forcerm or self.cancelled:
                yield self._remove(container_id, say=not failed or self.options.forcerm)
        return result

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

    def _do_workdir(self, state, line):
        path = expand(line.rest, state.expansion_env(), self.escape)
        state.config["WorkingDir"] = posixpath.normpath(posixpath.join(state.config.get("WorkingDir") or "/", path))
        comment = "WORKDIR " + state.config["WorkingDir"]
        return self._layer_step(state, comment, mkdir=state.config["WorkingDir"])

    # -- steps with a layer ----------------------------------------------------------
    @defer.inlineCallbacks
    def _layer_step(self, state, comment, **copy_request):
        """COPY, ADD (no container, as dockerd's performCopy) and WORKDIR (one beside)."""
        cmd = state.shell() + ["#(nop) " + comment]
        step_config = dict(state.config, Cmd=cmd)
        if (yield self._probe(state, step_config)):
            return
        make = lambda: self.steps.copy(parent=state.image_id, config=copy.deepcopy(state.config),
                                       container_config=step_config, created_by=" ".join(cmd),
                                       author=state.maintainer, **copy_request)
        if copy_request.get("mkdir"):
            yield self._beside_container(state, step_config, make)
        else:
            state.image_id = (yield make())["Id"]

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

        @defer.inlineCallbacks
        def run_and_commit(container_id):
            self.running = container_id
            try:
                self._check_cancelled()
                code = yield self.steps.run(container_id, lambda data: self.say(data.decode("utf-8", "replace")),
                                            started=self._started)
            finally:
                self.running = None
            self._check_cancelled()
            if code != 0:
                raise StepFailed(f"The command '{' '.join(command)}' returned a non-zero code: {code}", code)
            result = yield self.steps.commit(container_id, config=copy.deepcopy(state.config),
                                             container_config=step_config, created_by=" ".join(saved),
                                             author=state.maintainer)
            return result
        state.image_id = (yield self._intermediate(body, run_and_commit))["Id"]

    @defer.inlineCallbacks
    def _remove(self, container_id, say=True):
        try:
            yield self.steps.remove(container_id)
        except PydockerError as e:
            self.say(f"Error removing intermediate container {short(container_id)}: {e}\n")
            return
        if say and not self.cancelled:
            self.say(f"Removing intermediate container {short(container_id)}\n")


def _platform_of(document):
    """The platform an image's inspect document declares."""
    return Platform.of_image({"os": document.get("Os"), "architecture": document.get("Architecture"),
                              "variant": document.get("Variant")})
