#!/usr/bin/env python3
"""Runs the Autobahn|Testsuite fuzzing client (wstest) against a WebSocket
server on loopback and summarises its report.

    autobahn.py find-python          print the Python 2.7 the suite would use
    autobahn.py setup                install the suite (first time only)
    autobahn.py run URL [CASES] [OUTDIR] [--exclude PATTERNS]

CASES and --exclude are comma-separated wstest patterns: '9.*' is 9.x only,
'9.1.1' one case (without '*', a pattern must be a whole case id: '9.1' is
an error); CASES defaults to '*' (all 517 cases, about 25 minutes).
`run` installs the suite if needed; OUTDIR (default target/autobahn) gets
index.html (per case details), index.json, wstest.log and the spec. The last
line `run` prints is always

    autobahn: N cases, OK=a NON-STRICT=b INFORMATIONAL=c UNIMPLEMENTED=d FAILED=e

where N is the number of cases requested: one without a result (wstest stops
the whole run when the server refuses a connection) counts as FAILED.

The suite (autobahntestsuite on PyPI) runs on Python 2.7 only, so it lives in
its own virtualenv built from a Python 2.7: AUTOBAHN_PY2 if set ('none' acts
as if there were no Python 2.7), else the newest of pyenv's
$PYENV_ROOT/versions/2.7* (PYENV_ROOT defaults to ~/.pyenv), else python2.7
on the PATH.

Environment: AUTOBAHN_PY2, PYENV_ROOT, AUTOBAHN_VENV (the virtualenv,
default target/autobahn-venv), AUTOBAHN_TIMEOUT (seconds wstest may take,
default 2400).

Exit status: 0 no case FAILED; 1 some case FAILED or has no result; 2 setup
or run error; 3 no Python 2.7 found.
"""
import argparse
import ast
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
REQUIREMENTS = HERE / "requirements-py27.txt"
VENV = Path(os.environ.get("AUTOBAHN_VENV") or REPO / "target" / "autobahn-venv").absolute()
AGENT = "mod_rswebsocket"  # the server's name in the report
BEHAVIORS = ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"]
# Closing behaviours that are listed (they do not fail a case by themselves).
BAD_CLOSE = {"WRONG CODE", "UNCLEAN", "FAILED BY CLIENT", "FAILED"}


class Failure(Exception):
    """Ends the program with a message and an exit status."""

    def __init__(self, message, status=2):
        super().__init__(message)
        self.status = status


def say(message):
    print("autobahn.py: " + message, file=sys.stderr, flush=True)


# ---- Python 2.7 -----------------------------------------------------------

def is_python27(exe):
    """Runs it: a pyenv shim can exist on the PATH and still fail."""
    try:
        out = subprocess.run(
            [exe, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and out.stdout.strip() == "2.7"


def version_key(path):
    return [int(n) for n in re.findall(r"\d+", path.parent.parent.name)]


def find_python2():
    explicit = os.environ.get("AUTOBAHN_PY2", "")
    if explicit == "none":
        raise Failure("no Python 2.7: AUTOBAHN_PY2=none; unset it to look in pyenv and on the PATH", 3)
    if explicit:
        # Asked for this one: falling back to another would hide the mistake.
        if is_python27(explicit):
            return explicit
        raise Failure("no Python 2.7 found: AUTOBAHN_PY2=%s is not a working python2.7; "
                      "point it at one, or unset it to look in pyenv and on the PATH" % explicit, 3)
    pyenv = Path(os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv"))
    candidates = sorted(pyenv.glob("versions/2.7*/bin/python2.7"), key=version_key, reverse=True)
    on_path = shutil.which("python2.7")
    for exe in [str(c) for c in candidates] + ([on_path] if on_path else []):
        if is_python27(exe):
            return exe
    raise Failure("no Python 2.7 found (looked in %s/versions/2.7* and for python2.7 on the "
                  "PATH); install one with 'pyenv install 2.7.18', or set "
                  "AUTOBAHN_PY2=/path/to/python2.7" % pyenv, 3)


# ---- the suite's virtualenv -------------------------------------------------

def wstest():
    return VENV / "bin" / "wstest"


def wstest_starts():
    try:
        return subprocess.run([str(wstest()), "-a"], capture_output=True).returncode == 0
    except OSError:
        return False


def venv_ready():
    """Built from the current requirements, and wstest starts."""
    stamp = VENV / "requirements-installed.txt"
    return stamp.is_file() and stamp.read_text() == REQUIREMENTS.read_text() and wstest_starts()


def step(command, log, what):
    with open(log, "a") as out:
        out.write("$ %s\n" % " ".join(command))
        out.flush()
        if subprocess.run(command, stdout=out, stderr=subprocess.STDOUT).returncode == 0:
            return
    tail = log.read_text(errors="replace").splitlines()[-15:]
    raise Failure("%s failed; last lines of %s:\n%s" % (what, log, "\n".join(tail)))


def install(py2):
    say("installing the Autobahn|Testsuite into %s with %s "
        "(first run only: about 1.5 minutes, needs PyPI)" % (VENV, py2))
    shutil.rmtree(VENV, ignore_errors=True)
    VENV.mkdir(parents=True)
    log = VENV / "install.log"
    # Python 2.7 has no venv module, and virtualenv 20.22 dropped 2.7: a
    # throwaway Python 3 venv holds the last virtualenv that can build one.
    with tempfile.TemporaryDirectory(prefix="autobahn-boot-") as boot:
        step([sys.executable, "-m", "venv", boot], log,
             "python3 -m venv (on Debian/Ubuntu: apt-get install python3-venv)")
        step([boot + "/bin/pip", "install", "-q", "virtualenv<20.22"], log, "pip install virtualenv")
        step([boot + "/bin/virtualenv", "-q", "-p", py2, str(VENV)], log, "virtualenv")
    step([str(VENV / "bin" / "pip"), "install", "--disable-pip-version-check",
          "--no-warn-script-location", "-r", str(REQUIREMENTS)],
         log, "pip install -r " + REQUIREMENTS.name)
    if not wstest_starts():
        raise Failure("installed, but '%s -a' fails (see %s)" % (wstest(), log))
    # Written last: a half-finished install is never taken for a ready one.
    shutil.copyfile(REQUIREMENTS, VENV / "requirements-installed.txt")
    say("installed")


def setup():
    py2 = find_python2()
    VENV.parent.mkdir(parents=True, exist_ok=True)
    # One install at a time when several runs start together.
    with open(VENV.parent / (VENV.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not venv_ready():
            install(py2)


# ---- running wstest -------------------------------------------------------

def patterns(text):
    return [p.strip() for p in text.split(",") if p.strip()]


def write_spec(path, url, cases, exclude, outdir):
    spec = {
        # Dropping TCP instead of finishing the closing handshake shows in
        # the closing behaviour, not as a FAILED case (wstest's default, set
        # here so the report says so).
        "options": {"failByDrop": False},
        "outdir": str(outdir),
        "servers": [{"agent": AGENT, "url": url}],
        "cases": cases,
        "exclude-cases": exclude,
        "exclude-agent-cases": {},
    }
    path.write_text(json.dumps(spec, indent=2) + "\n")


def run_wstest(spec, outdir, log):
    """Runs wstest; False if it did not end by itself."""
    timeout = int(os.environ.get("AUTOBAHN_TIMEOUT") or 2400)
    started = time.monotonic()
    with open(log, "w") as out:
        # Its own process group, so stopping it stops all of it; unbuffered,
        # so the log has the requested cases as soon as they are known.
        proc = subprocess.Popen([str(wstest()), "-m", "fuzzingclient", "-s", str(spec)],
                                cwd=outdir, stdout=out, stderr=subprocess.STDOUT,
                                env=dict(os.environ, PYTHONUNBUFFERED="1"),
                                start_new_session=True)
    cases = None
    try:
        while proc.poll() is None:
            cases = requested_cases(log) if cases is None else cases
            # With no case to run, wstest would wait forever.
            if cases == [] or time.monotonic() - started > timeout:
                if cases != []:
                    say("wstest stopped after AUTOBAHN_TIMEOUT=%ds "
                        "(it writes its report only at the end)" % timeout)
                return False
            time.sleep(0.5)
    finally:
        if proc.poll() is None:  # also on Ctrl-C, which its group does not get
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    status = proc.returncode
    say("wstest exited %d after %ds (log: %s)" % (status, time.monotonic() - started, log))
    lines = log.read_text(errors="replace").splitlines()
    # A refused connection ends the whole run (the server died?).
    for line in lines:
        if line.startswith("Connection to ") and " failed " in line:
            say(line)
    if status != 0:
        say("wstest failed; the end of its log:\n" + "\n".join(lines[-5:]))
    return status == 0


# ---- the summary ------------------------------------------------------------

def case_key(case_id):
    return [int(n) for n in case_id.split(".") if n.isdigit()]


def id_lines(ids):
    ids = sorted(ids, key=case_key)
    return ["  " + " ".join(ids[i:i + 12]) for i in range(0, len(ids), 12)]


def requested_cases(log):
    """wstest logs the cases its patterns matched as `Cases = [...]`."""
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("Cases = ["):
            return [str(c) for c in ast.literal_eval(line[len("Cases = "):])]
    return None


def summarize(outdir, log):
    requested = requested_cases(log)
    if requested is None:
        tail = log.read_text(errors="replace").splitlines()[-15:]
        raise Failure("wstest listed no cases; last lines of %s:\n%s" % (log, "\n".join(tail)))
    if not requested:
        raise Failure("no case matches the patterns")
    index = outdir / "index.json"
    results = json.loads(index.read_text()).get(AGENT, {}) if index.is_file() else {}
    if not index.is_file():
        say("wstest wrote no report")

    behavior = Counter(r["behavior"] for r in results.values())
    closing = Counter(r["behaviorClose"] for r in results.values())
    missing = [c for c in requested if c not in results]
    failed = [c for c, r in results.items() if r["behavior"] == "FAILED"]
    bad_close = [c for c, r in results.items() if r["behaviorClose"] in BAD_CLOSE]
    non_strict = [c for c, r in results.items() if r["behavior"] == "NON-STRICT"]

    closing_counts = ", ".join("%s %d" % kv for kv in sorted(closing.items()))
    lines = ["Autobahn|Testsuite: %d cases requested, %d in the report (%s)"
             % (len(requested), len(results), outdir / "index.html"),
             "behaviour: " + ", ".join("%s %d" % (b, behavior[b]) for b in BEHAVIORS),
             "closing behaviour: " + (closing_counts or "none")]
    for title, ids in [("NON-STRICT", non_strict),
                       ("bad closing behaviour (not counted as FAILED)", bad_close),
                       ("MISSING, no result (counted as FAILED)", missing),
                       ("FAILED", failed)]:
        if ids:
            lines += ["%s (%d):" % (title, len(ids))] + id_lines(ids)
    counts = {b: behavior[b] for b in BEHAVIORS}
    counts["FAILED"] += len(missing)
    lines.append("autobahn: %d cases, " % len(requested)
                 + " ".join("%s=%d" % (b, counts[b]) for b in BEHAVIORS))
    print("\n".join(lines), flush=True)
    return 1 if counts["FAILED"] else 0


def run(url, cases, outdir, exclude):
    host = urlsplit(url).hostname or ""
    if urlsplit(url).scheme not in ("ws", "wss"):
        raise Failure("URL must be ws:// or wss://: " + url)
    # The suite floods and fuzzes its peer: only ever a server on this machine.
    if not (host.startswith("127.") or host in ("localhost", "::1")):
        raise Failure("refusing a server that is not on loopback: " + url)
    setup()
    outdir.mkdir(parents=True, exist_ok=True)
    outdir = outdir.resolve()
    (outdir / "index.json").unlink(missing_ok=True)  # never summarise an old report
    spec, log = outdir / "fuzzingclient.json", outdir / "wstest.log"
    write_spec(spec, url, patterns(cases) or ["*"], patterns(exclude), outdir)
    say("wstest -m fuzzingclient -s %s: cases %s%s"
        % (spec, cases, exclude and ", excluding " + exclude))
    finished = run_wstest(spec, outdir, log)
    counted = summarize(outdir, log)
    return counted if finished else 2


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("find-python", help="print the Python 2.7 the suite would use")
    commands.add_parser("setup", help="install the suite into its virtualenv if needed")
    run_args = commands.add_parser("run", help="run cases against a server and summarise")
    run_args.add_argument("url", help="ws:// or wss:// URL of the server, on loopback")
    run_args.add_argument("cases", nargs="?", default="*", help="case patterns, default '*'")
    run_args.add_argument("outdir", nargs="?", type=Path, default=REPO / "target" / "autobahn")
    run_args.add_argument("--exclude", default="", help="case patterns to leave out")
    args = parser.parse_args()
    # Stopped by a signal: still stop wstest (see run_wstest).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    try:
        if args.command == "find-python":
            print(find_python2())
        elif args.command == "setup":
            setup()
            print(VENV)
        else:
            return run(args.url, args.cases, args.outdir, args.exclude)
    except Failure as failure:
        say(str(failure))
        return failure.status
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
