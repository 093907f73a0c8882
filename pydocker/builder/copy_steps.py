"""COPY and ADD: their sources resolved in the context (or another stage's or image's
rootfs), their cache key made from the sources' content digests, their files written into
a new layer by ``build.copy``.

A mixin of ``dispatcher.Builder``, which provides ``_words``, ``_layer_step``,
``_base_image``, ``steps``, ``context``, ``program`` and ``stage_images``.
"""

import posixpath

from twisted.internet import defer

from pydocker.builder import context as buildcontext
from pydocker.builder.shellwords import expand
from pydocker.builder.state import StepFailed
from pydocker.errdefs import PydockerError


class CopySteps:
    """COPY and ADD (local files, URLs, ``--from``, ``--chown``)."""

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
                for _, rel in downloaded:
                    self.context.digests.pop(rel, None)  # written over whatever the context held there
                hashes = yield self.steps.hash_sources(self.context, paths + [path for path, _ in downloaded])
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
