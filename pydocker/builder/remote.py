"""Remote build contexts (the ``remote`` query): an http(s) URL to a tar or a plain
Dockerfile, or a git repository cloned with the host's git, as dockerd does; and ADD's URLs.

A git URL is ``git://...``, ``git@...``, ``github.com/...`` or an http(s) URL ending in
``.git``; ``#ref:subdir`` picks a branch, tag or commit and a directory in it. Blocking code
for worker threads; git never prompts.
"""

import email.utils
import os
import posixpath
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request

from pydocker.builder import context as buildcontext
from pydocker.errdefs import InvalidParameter

GIT_TIMEOUT = 600


def is_git_url(url):
    if url.startswith(("git://", "git@", "github.com/")):
        return True
    scheme = urllib.parse.urlparse(url).scheme
    return scheme in ("http", "https") and url.split("#", 1)[0].endswith(".git")


def fetch(url, directory, dockerfile_name):
    """Put the context at ``url`` into ``directory``; return the context's directory."""
    if is_git_url(url):
        return clone(url, directory)
    if not url.startswith(("http://", "https://")):
        raise InvalidParameter(f"unable to prepare context: remote URL {url!r} is not supported "
                               f"(http(s) URLs and git repositories only)")
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            buildcontext.receive(response, directory, dockerfile_name)
    except urllib.error.HTTPError as e:
        raise InvalidParameter(f"unable to prepare context: failed to GET {url} with status {e.code}") from None
    except (urllib.error.URLError, OSError) as e:
        raise InvalidParameter(f"unable to prepare context: {getattr(e, 'reason', e)}") from None
    return directory


def clone(url, directory):
    """A shallow checkout of ``url``'s ref in ``directory``; the ``subdir`` of it is the context."""
    if shutil.which("git") is None:
        raise InvalidParameter("unable to prepare context: git is not installed on the daemon's host")
    remote, _, fragment = url.partition("#")
    ref, _, subdir = fragment.partition(":")
    if remote.startswith("github.com/"):
        remote = "https://" + remote
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", GIT_ASKPASS="true")
    commands = [["init", "-q"], ["remote", "add", "origin", remote],
                ["fetch", "-q", "--depth", "1", "origin", ref or "HEAD"], ["checkout", "-q", "FETCH_HEAD"],
                ["submodule", "update", "-q", "--init", "--recursive", "--depth", "1"]]
    for args in commands:
        done = subprocess.run(["git", *args], cwd=directory, env=env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=GIT_TIMEOUT)
        if done.returncode != 0:
            raise InvalidParameter(f"unable to prepare context: error fetching {remote}: "
                                   f"{done.stderr.strip() or done.stdout.strip()}")
    clean = posixpath.normpath(subdir or ".")
    if clean == ".." or clean.startswith("../") or clean.startswith("/"):
        raise InvalidParameter(f"unable to prepare context: subdirectory {subdir!r} is outside the repository")
    root = os.path.realpath(directory)
    found = os.path.realpath(os.path.join(directory, clean))
    if found != root and not found.startswith(root + "/"):
        raise InvalidParameter(f"unable to prepare context: subdirectory {subdir!r} is outside the repository")
    if not os.path.isdir(found):
        raise InvalidParameter(f"unable to prepare context: subdirectory {subdir!r} not found in {remote}")
    return found


def download(urls, directory):
    """ADD's URLs fetched into the context under ``.pydocker-add/N/<name>``; [(path, relpath)]."""
    found = []
    for index, url in enumerate(urls):
        name = posixpath.basename(urllib.parse.urlparse(url).path) or "__unnamed__"
        rel = f".pydocker-add/{index}/{name}"
        path = os.path.join(directory, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        try:
            with urllib.request.urlopen(url, timeout=60) as response, open(path, "wb") as f:
                shutil.copyfileobj(response, f, 1 << 20)
                modified = response.headers.get("Last-Modified")
        except urllib.error.HTTPError as e:
            raise InvalidParameter(f"failed to GET {url} with status {e.code} {e.reason}") from None
        except (urllib.error.URLError, OSError) as e:
            raise InvalidParameter(f"failed to GET {url}: {getattr(e, 'reason', e)}") from None
        if modified:
            try:
                stamp = email.utils.parsedate_to_datetime(modified).timestamp()
                os.utime(path, (stamp, stamp))
            except (TypeError, ValueError):
                pass
        found.append((path, rel))
    return found
