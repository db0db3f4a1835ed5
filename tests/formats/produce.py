#!/usr/bin/env python3
"""Log files written by the real programs, for tests/since_formats.rs.

    produce.py OUTDIR [NAME...]

Each producer (a library called here, a Node script, or a daemon started on
127.0.0.1 for a few seconds) writes its log while this script drives it in
bursts two seconds apart. Before each burst after the first, the script
waits until the file has stopped growing and notes its size: the first line
of the burst starts there, and every line before it was stamped before the
burst's second began. So `since=` at that second must land exactly at that
offset; the test asks the server and compares. The expected offsets come from
the clock and the file's size, not from reading the timestamps.

OUTDIR/manifest.tsv gets, per usable point:
    ok <TAB> NAME <TAB> FILE <TAB> T <TAB> OFFSET
and per producer that cannot run here:
    skip <TAB> NAME <TAB> reason
T is RFC 3339 UTC (`...Z`) for a file whose stamps carry a zone, and the
producer's wall clock without a zone (Europe/Paris) for one whose stamps do
not: a zone-less T is compared with a file's times as written.

Every producer runs under TZ=Europe/Paris so that a zone written as `+0100`
or `CET` that were dropped would put the answer an hour off. All producers
run at once, each in its own thread; the whole run takes about 20 s.
"""

import datetime
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

TZ = "Europe/Paris"
os.environ["TZ"] = TZ
time.tzset()

OUT = os.path.abspath(sys.argv[1])
ONLY = set(sys.argv[2:])
HERE = os.path.dirname(os.path.abspath(__file__))
GAP = 2.0  # seconds between bursts
POINTS = 3  # since= times per file
MAX_BURSTS = 9
QUIET = 0.5  # a file that has not grown for this long has settled
DEADLINE = 90  # seconds for the whole run; a producer still going then is dropped

lock = threading.Lock()
manifest = []
procs = []  # every process started here, ended at the end by its group id


def note(*fields):
    with lock:
        manifest.append("\t".join(str(f) for f in fields))


def log(msg):
    with lock:
        print(msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, within=30.0):
    end = time.time() + within
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def wait_file(path, needle=None, within=30.0):
    end = time.time() + within
    while time.time() < end:
        try:
            with open(path, "rb") as f:
                data = f.read()
            if needle is None or needle.encode() in data:
                return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def start(args, **kw):
    """Starts a process in its own group (ended by that group's id)."""
    p = subprocess.Popen(args, start_new_session=True, **kw)
    with lock:
        procs.append(p)
    return p


def stop_all():
    for p in procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except OSError:
                pass
    end = time.time() + 5
    for p in procs:
        try:
            p.wait(timeout=max(0.1, end - time.time()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass


def size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def settled(paths, within=6.0):
    """Waits until none of `paths` grew for QUIET seconds; their sizes."""
    last = [size(p) for p in paths]
    since = time.time()
    end = since + within
    while time.time() < end:
        time.sleep(0.05)
        now = [size(p) for p in paths]
        if now != last:
            last, since = now, time.time()
        elif time.time() - since >= QUIET:
            return last
    return None


def ends_line(path, n):
    if n == 0:
        return True
    with open(path, "rb") as f:
        f.seek(n - 1)
        return f.read(1) == b"\n"


def t_text(secs, zoned):
    if zoned:
        return datetime.datetime.fromtimestamp(secs, datetime.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(secs))


def bursts(files, act):
    """Drives `act(k)` at whole seconds GAP apart; `files` is a list of
    (name, path, zoned). Notes POINTS points per file."""
    paths = [p for _, p, _ in files]
    if settled(paths, within=15) is None:
        raise RuntimeError("the log did not settle after start-up")
    got = 0
    b = int(time.time()) + 1
    done_at = None
    for k in range(MAX_BURSTS):
        if k:
            # Every line of the last burst was stamped before `b` (it ended
            # half a second before): once the files stop growing, their
            # sizes are where the lines stamped from `b` on start.
            sizes = settled(paths)
            if (
                sizes is not None
                and done_at < b - 0.5
                and all(ends_line(p, n) for p, n in zip(paths, sizes))
            ):
                for (name, path, zoned), n in zip(files, sizes):
                    note("ok", name, os.path.basename(path), t_text(b, zoned), n)
                got += 1
        while time.time() < b + 0.1:
            time.sleep(min(0.05, max(0.0, b + 0.1 - time.time())))
        act(k)
        done_at = time.time()
        if got == POINTS:
            break
        # The next burst's second: GAP on, and at least half a second after
        # this burst ended (a busy machine: later).
        b = max(b + int(GAP), int(done_at + 0.5) + 1)
    if got < POINTS:
        raise RuntimeError(f"only {got} usable points (the machine is too busy?)")
    settled(paths)


def producer(name, zoned_by_file):
    """Decorator: registers a producer writing the given files."""

    def wrap(fn):
        PRODUCERS.append((name, zoned_by_file, fn))
        return fn

    return wrap


PRODUCERS = []


def run_producer(name, files_zoned, fn):
    d = os.path.join(OUT, "work-" + name)
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o777)
    files = [(f"{name}-{f}" if f != "" else name, os.path.join(OUT, f"{name}{'-' + f if f else ''}.log"), z)
             for f, z in files_zoned]
    try:
        fn(d, files)
    except Skip as e:
        for n, _, _ in files:
            note("skip", n, str(e))
        log(f"{name}: skipped: {e}")
    except Exception as e:  # noqa: BLE001 — reported as a skip with its reason
        for n, _, _ in files:
            note("fail", n, f"{type(e).__name__}: {e}".replace("\n", " ")[:300])
        log(f"{name}: {traceback.format_exc()}")


class Skip(Exception):
    pass


def need(cmd):
    path = shutil.which(cmd) or (cmd if os.path.exists(cmd) else None)
    if not path:
        raise Skip(f"{cmd} is not installed")
    return path


def need_module(mod):
    try:
        return __import__(mod)
    except ImportError:
        raise Skip(f"Python module {mod} is not installed (pip install {mod})")


def http_get(port, path, host="127.0.0.1"):
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n".encode())
        while s.recv(65536):
            pass


# ---------------------------------------------------------------- libraries


def py_logger(path, fmt, datefmt=None):
    import logging

    lg = logging.getLogger("app." + os.path.basename(path).split(".")[0])
    lg.propagate = False
    lg.setLevel(logging.DEBUG)
    h = logging.FileHandler(path)
    h.setFormatter(logging.Formatter(fmt, datefmt))
    lg.addHandler(h)
    return lg


def py_burst(lg, k):
    for i in range(3):
        lg.info("burst %d line %d", k, i)
    try:
        raise ValueError(f"burst {k}")
    except ValueError:
        lg.exception("with a traceback")


@producer("python", [("default", False), ("levelfirst", False), ("zoned", True), ("zonename", True)])
def _python(d, files):
    loggers = [
        py_logger(files[0][1], "%(asctime)s %(levelname)s %(name)s: %(message)s"),
        py_logger(files[1][1], "%(levelname)s %(asctime)s %(name)s: %(message)s"),
        py_logger(files[2][1], "%(asctime)s %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S%z"),
        py_logger(files[3][1], "%(asctime)s [%(levelname)s] %(message)s", "%Y-%m-%d %H:%M:%S %Z"),
    ]
    for lg in loggers:
        lg.info("start")
    bursts(files, lambda k: [py_burst(lg, k) for lg in loggers])


@producer("structlog", [("json", True), ("console", False)])
def _structlog(d, files):
    structlog = need_module("structlog")
    fj = open(files[0][1], "a")
    fc = open(files[1][1], "a")
    lj = structlog.wrap_logger(
        structlog.WriteLogger(fj),
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.JSONRenderer(),
        ],
    )
    lc = structlog.wrap_logger(
        structlog.WriteLogger(fc),
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="%Y-%m-%d %H:%M:%S", utc=False),
            structlog.dev.ConsoleRenderer(colors=True),
        ],
    )

    def act(k):
        for i in range(3):
            lj.info("burst", k=k, i=i)
            lc.info("burst", k=k, i=i)
        fj.flush()
        fc.flush()

    lj.info("start")
    lc.info("start")
    fj.flush()
    fc.flush()
    bursts(files, act)


@producer("loguru", [("text", False), ("json", True)])
def _loguru(d, files):
    loguru = need_module("loguru")
    lg = loguru.logger
    lg.remove()
    lg.add(files[0][1], filter=lambda r: r["extra"].get("to") == "t")
    lg.add(files[1][1], serialize=True, filter=lambda r: r["extra"].get("to") == "j")
    lt, lj = lg.bind(to="t"), lg.bind(to="j")

    def act(k):
        for i in range(3):
            lt.info("burst {} line {}", k, i)
            lj.info("burst {} line {}", k, i)

    act(-1)
    bursts(files, act)


def py_venv():
    """The Python that has the pip packages: this one."""
    return sys.executable


@producer("gunicorn", [("error", True), ("access", True)])
def _gunicorn(d, files):
    need_module("gunicorn")
    with open(os.path.join(d, "app.py"), "w") as f:
        f.write(
            "def app(environ, start_response):\n"
            "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
            "    return [b'ok']\n"
        )
    port = free_port()
    start(
        [py_venv(), "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--log-level", "debug", "--error-logfile", files[0][1], "--access-logfile", files[1][1],
         "--chdir", d, "app:app"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    if not wait_port(port):
        raise RuntimeError("gunicorn did not listen")
    http_get(port, "/warm")
    bursts(files, lambda k: [http_get(port, f"/burst{k}/{i}") for i in range(3)])


@producer("flask", [("", False)])
def _flask(d, files):
    need_module("flask")
    port = free_port()
    with open(os.path.join(d, "app.py"), "w") as f:
        f.write(
            "import flask\n"
            "app = flask.Flask('produce')\n"
            "@app.route('/<path:p>')\n"
            "def page(p):\n"
            "    return 'ok'\n"
            f"app.run(host='127.0.0.1', port={port})\n"
        )
    out = open(files[0][1], "ab")
    start([py_venv(), os.path.join(d, "app.py")], stdout=subprocess.DEVNULL, stderr=out, cwd=d)
    if not wait_port(port):
        raise RuntimeError("flask did not listen")
    http_get(port, "/warm")
    bursts(files, lambda k: [http_get(port, f"/burst{k}/{i}") for i in range(3)])


@producer("django", [("", False)])
def _django(d, files):
    need_module("django")
    port = free_port()
    with open(os.path.join(d, "site.py"), "w") as f:
        f.write(
            "import sys\n"
            "from django.conf import settings\n"
            "settings.configure(DEBUG=True, ROOT_URLCONF=__name__, ALLOWED_HOSTS=['*'],\n"
            "                   SECRET_KEY='produce', INSTALLED_APPS=[], TIME_ZONE='Europe/Paris')\n"
            "from django.http import HttpResponse\n"
            "from django.urls import re_path\n"
            "urlpatterns = [re_path(r'^', lambda r: HttpResponse('ok'))]\n"
            "from django.core.management import execute_from_command_line\n"
            f"execute_from_command_line(['site', 'runserver', '--noreload', '127.0.0.1:{port}'])\n"
        )
    out = open(files[0][1], "ab")
    start([py_venv(), os.path.join(d, "site.py")], stdout=out, stderr=out, cwd=d)
    if not wait_port(port):
        raise RuntimeError("django did not listen")
    http_get(port, "/warm")
    bursts(files, lambda k: [http_get(port, f"/burst{k}/{i}") for i in range(3)])


# --------------------------------------------------------------------- Node


def node_producer(d, files, lib):
    need("node")
    modules = os.environ.get("WSTAIL_FORMATS_NODE", "")
    if not os.path.isdir(os.path.join(modules, lib)):
        raise Skip(f"npm package {lib} is not installed (npm install {lib})")
    env = dict(os.environ, NODE_PATH=modules)
    p = start(["node", os.path.join(HERE, "produce.js"), lib, files[0][1]],
              stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)

    def act(k):
        p.stdin.write(f"{k}\n".encode())
        p.stdin.flush()
        if p.stdout.readline() != b"ok\n":
            raise RuntimeError(f"{lib}: the script did not answer")

    act(-1)
    bursts(files, act)
    p.stdin.close()


@producer("pino", [("", True)])
def _pino(d, files):
    node_producer(d, files, "pino")


@producer("winston", [("", True)])
def _winston(d, files):
    node_producer(d, files, "winston")


@producer("bunyan", [("", True)])
def _bunyan(d, files):
    node_producer(d, files, "bunyan")


# ------------------------------------------------------------------ daemons


@producer("nginx", [("access", True), ("error", False)])
def _nginx(d, files):
    nginx = need("nginx")
    port = free_port()
    os.makedirs(os.path.join(d, "www"), exist_ok=True)
    with open(os.path.join(d, "www", "index.html"), "w") as f:
        f.write("ok\n")
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(
            f"user root;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {files[1][1]} info;\n"
            "events { worker_connections 64; }\n"
            "http {\n"
            f"  access_log {files[0][1]} combined;\n"
            f"  client_body_temp_path {d}/b; proxy_temp_path {d}/p; fastcgi_temp_path {d}/f;\n"
            f"  uwsgi_temp_path {d}/u; scgi_temp_path {d}/s;\n"
            f"  server {{ listen 127.0.0.1:{port}; root {d}/www; }}\n"
            "}\n"
        )
    start([nginx, "-p", d, "-c", conf, "-g", "daemon off;"],
          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not wait_port(port):
        raise RuntimeError("nginx did not listen")

    def act(k):
        http_get(port, "/")
        http_get(port, f"/missing-{k}")

    act(-1)
    bursts(files, act)


@producer("apache2", [("access", True), ("error", False)])
def _apache(d, files):
    apache = need("/usr/sbin/apache2")
    mods = "/usr/lib/apache2/modules"
    port = free_port()
    os.makedirs(os.path.join(d, "www"), exist_ok=True)
    with open(os.path.join(d, "www", "index.html"), "w") as f:
        f.write("ok\n")
    conf = os.path.join(d, "httpd.conf")
    with open(conf, "w") as f:
        f.write(
            f"ServerRoot {d}\nServerName localhost\nListen 127.0.0.1:{port}\n"
            f"LoadModule mpm_event_module {mods}/mod_mpm_event.so\n"
            f"LoadModule authz_core_module {mods}/mod_authz_core.so\n"
            f"PidFile {d}/httpd.pid\nDefaultRuntimeDir {d}\nUser nobody\nGroup nogroup\n"
            f"ErrorLog {files[1][1]}\nLogLevel info\n"
            f"CustomLog {files[0][1]} \"%h %l %u %t \\\"%r\\\" %>s %b\"\n"
            f"DocumentRoot {d}/www\n<Directory {d}/www>\n  Require all granted\n</Directory>\n"
        )
    start([apache, "-f", conf, "-DFOREGROUND"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not wait_port(port):
        raise RuntimeError("apache2 did not listen")

    def act(k):
        http_get(port, "/index.html")
        http_get(port, f"/missing-{k}")

    act(-1)
    bursts(files, act)


@producer("php-fpm", [("", False)])
def _phpfpm(d, files):
    fpm = None
    for v in ("8.4", "8.3", "8.2", "8.1", "7.4"):
        fpm = shutil.which(f"php-fpm{v}") or fpm
    if not fpm:
        raise Skip("php-fpm is not installed")
    port = free_port()
    conf = os.path.join(d, "fpm.conf")
    with open(conf, "w") as f:
        f.write(
            f"[global]\nerror_log = {files[0][1]}\nlog_level = notice\npid = {d}/fpm.pid\n"
            "daemonize = no\n"
            f"[www]\nuser = nobody\ngroup = nogroup\nlisten = 127.0.0.1:{port}\n"
            "pm = static\npm.max_children = 1\n"
        )
    p = start([fpm, "-F", "-R", "-y", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not wait_file(files[0][1], "ready to handle connections"):
        raise RuntimeError("php-fpm did not start")

    def act(k):
        # SIGUSR1: fpm re-opens its log and says so, stamped now.
        os.kill(p.pid, signal.SIGUSR1)

    bursts(files, act)


@producer("redis", [("", False)])
def _redis(d, files):
    redis = need("redis-server")
    port = free_port()
    start([redis, "--port", str(port), "--bind", "127.0.0.1", "--logfile", files[0][1],
           "--loglevel", "verbose", "--save", "", "--appendonly", "no", "--dir", d,
           "--daemonize", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not wait_port(port):
        raise RuntimeError("redis did not listen")

    def act(k):
        for _ in range(2):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.sendall(b"PING\r\n")
                s.recv(64)

    act(-1)
    bursts(files, act)


@producer("mariadb", [("general", False), ("slow", False)])
def _mariadb(d, files):
    server = need("/usr/sbin/mariadbd")
    install = need("mariadb-install-db")
    client = need("mariadb")
    data = os.path.join(d, "data")
    sock = os.path.join(d, "mysqld.sock")
    r = subprocess.run([install, "--no-defaults", f"--datadir={data}", "--user=root",
                        "--auth-root-authentication-method=normal", "--skip-test-db"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("mariadb-install-db: " + r.stderr.decode()[-300:])
    start([server, "--no-defaults", f"--datadir={data}", "--user=root", f"--socket={sock}",
           "--skip-networking", f"--pid-file={d}/mysqld.pid", f"--log-error={d}/error.log",
           "--general-log=1", f"--general-log-file={files[0][1]}", "--slow-query-log=1",
           f"--slow-query-log-file={files[1][1]}", "--long-query-time=0",
           "--innodb-buffer-pool-size=16M"],
          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not wait_file(f"{d}/error.log", "ready for connections", within=60):
        raise RuntimeError("mariadbd did not start")

    def act(k):
        subprocess.run([client, "--no-defaults", f"--socket={sock}", "-uroot", "-e",
                        f"select {k}; select 'burst {k}'"], check=True,
                       stdout=subprocess.DEVNULL, timeout=30)

    act(-1)
    bursts(files, act)


@producer("postgresql", [("", True)])
def _postgres(d, files):
    bindir = None
    for v in ("17", "16", "15", "14", "13"):
        if os.path.exists(f"/usr/lib/postgresql/{v}/bin/postgres"):
            bindir = f"/usr/lib/postgresql/{v}/bin"
            break
    if not bindir:
        raise Skip("postgresql is not installed")
    psql = need("psql")
    if os.geteuid() == 0:
        try:
            import pwd
            pw = pwd.getpwnam("postgres")
        except KeyError:
            raise Skip("no postgres user to run the server as")
        user = ["runuser", "-u", "postgres", "--"]
        os.chown(d, pw.pw_uid, pw.pw_gid)
    else:
        user = []
    data = os.path.join(d, "data")
    r = subprocess.run(user + [f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "postgres",
                               "--no-sync"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       timeout=120)
    if r.returncode != 0:
        raise RuntimeError("initdb: " + r.stderr.decode()[-300:])
    out = open(files[0][1], "ab")
    start(user + [f"{bindir}/postgres", "-D", data, "-k", d, "-c", "listen_addresses=",
                  "-c", "log_statement=all", "-c", f"log_timezone={TZ}",
                  "-c", "logging_collector=off", "-c", "fsync=off"],
          stdout=out, stderr=out)
    if not wait_file(files[0][1], "ready to accept connections", within=60):
        raise RuntimeError("postgres did not start")

    def act(k):
        subprocess.run([psql, "-h", d, "-U", "postgres", "-d", "postgres", "-q", "-c",
                        f"select {k}"], check=True, stdout=subprocess.DEVNULL, timeout=30)

    act(-1)
    bursts(files, act)


@producer("squid", [("", True)])
def _squid(d, files):
    squid = need("/usr/sbin/squid")
    port = free_port()
    conf = os.path.join(d, "squid.conf")
    with open(conf, "w") as f:
        f.write(
            f"http_port 127.0.0.1:{port}\naccess_log stdio:{files[0][1]}\n"
            f"cache_log {d}/cache.log\npid_filename {d}/squid.pid\ncoredump_dir {d}\n"
            "http_access allow all\ncache deny all\nbuffered_logs off\n"
            "shutdown_lifetime 0 seconds\ndns_nameservers 127.0.0.1\n"
        )
    open(files[0][1], "a").close()
    os.chmod(files[0][1], 0o666)
    start([squid, "-N", "-f", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not wait_port(port, within=60):
        raise RuntimeError("squid did not listen")
    target = free_port()  # nothing listens there: squid answers 503 and logs it

    def act(k):
        for i in range(2):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.sendall(f"GET http://127.0.0.1:{target}/burst{k}/{i} HTTP/1.0\r\n\r\n".encode())
                while s.recv(65536):
                    pass

    act(-1)
    bursts(files, act)


@producer("mosquitto", [("", True)])
def _mosquitto(d, files):
    mosq = need("/usr/sbin/mosquitto")
    port = free_port()
    conf = os.path.join(d, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write(
            f"listener {port} 127.0.0.1\nallow_anonymous true\nuser root\n"
            f"log_dest file {files[0][1]}\nlog_type all\nconnection_messages true\n"
            f"persistence false\npid_file {d}/mosquitto.pid\n"
        )
    start([mosq, "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not wait_port(port):
        raise RuntimeError("mosquitto did not listen")

    def act(k):
        cid = f"burst{k}".encode()
        body = b"\x00\x04MQTT\x04\x02\x00\x3c" + struct.pack(">H", len(cid)) + cid
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(bytes([0x10, len(body)]) + body)
            s.recv(4)  # CONNACK
            s.sendall(b"\xe0\x00")

    act(-1)
    bursts(files, act)


@producer("bind", [("", False)])
def _bind(d, files):
    named = need("/usr/sbin/named")
    port = free_port()
    conf = os.path.join(d, "named.conf")
    with open(conf, "w") as f:
        f.write(
            f'options {{ directory "{d}"; listen-on port {port} {{ 127.0.0.1; }};\n'
            f'  listen-on-v6 {{ none; }}; pid-file "{d}/named.pid"; recursion no;\n'
            "  querylog yes; dnssec-validation no; };\n"
            "controls { };\n"
            f'logging {{ channel f {{ file "{files[0][1]}"; print-time yes; print-category yes;\n'
            "  print-severity yes; severity info; };\n"
            "  category default { f; }; category queries { f; }; };\n"
        )
    start([named, "-f", "-c", conf, "-n", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not wait_file(files[0][1], "running"):
        raise RuntimeError("named did not start")

    def act(k):
        name = f"burst{k + 1}.example".encode()
        q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
        q += b"".join(bytes([len(p)]) + p for p in name.split(b".")) + b"\x00"
        q += struct.pack(">HH", 1, 1)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(5)
            s.sendto(q, ("127.0.0.1", port))
            try:
                s.recv(512)
            except socket.timeout:
                pass

    act(-1)
    bursts(files, act)


@producer("ruby", [("", False)])
def _ruby(d, files):
    ruby = need("ruby")
    script = (
        "require 'logger'\n"
        "log = Logger.new(ARGV[0])\n"
        "STDOUT.sync = true\n"
        "STDIN.each_line { |k| 3.times { |i| log.info(\"burst #{k.strip} line #{i}\") }; puts 'ok' }\n"
    )
    p = start([ruby, "-e", script, files[0][1]], stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def act(k):
        p.stdin.write(f"{k}\n".encode())
        p.stdin.flush()
        if p.stdout.readline() != b"ok\n":
            raise RuntimeError("ruby did not answer")

    act(-1)
    bursts(files, act)
    p.stdin.close()


@producer("vsftpd", [("", False)])
def _vsftpd(d, files):
    vsftpd = need("/usr/sbin/vsftpd")
    port = free_port()
    empty = os.path.join(d, "empty")
    os.makedirs(empty, exist_ok=True)
    os.chmod(empty, 0o755)
    conf = os.path.join(d, "vsftpd.conf")
    with open(conf, "w") as f:
        f.write(
            f"listen=YES\nlisten_address=127.0.0.1\nlisten_port={port}\nbackground=NO\n"
            "anonymous_enable=YES\nno_anon_password=YES\nftp_username=nobody\n"
            f"anon_root={empty}\nlocal_enable=NO\nsyslog_enable=NO\nxferlog_enable=YES\n"
            f"vsftpd_log_file={files[0][1]}\nlog_ftp_protocol=YES\nxferlog_std_format=NO\n"
            f"secure_chroot_dir={empty}\nseccomp_sandbox=NO\n"
        )
    os.chmod(conf, 0o600)
    start([vsftpd, conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not wait_port(port):
        raise RuntimeError("vsftpd did not listen")

    def act(k):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.recv(512)  # the banner
            s.sendall(b"QUIT\r\n")
            while s.recv(512):
                pass

    act(-1)
    bursts(files, act)


@producer("rsyslog", [("traditional", False), ("rfc3339", True)])
def _rsyslog(d, files):
    rsyslogd = need("/usr/sbin/rsyslogd")
    logger = need("logger")
    sock = os.path.join(d, "log.sock")
    conf = os.path.join(d, "rsyslog.conf")
    with open(conf, "w") as f:
        f.write(
            f'global(workDirectory="{d}")\n'
            'module(load="imuxsock" SysSock.Use="off")\n'
            f'input(type="imuxsock" Socket="{sock}")\n'
            f'action(type="omfile" file="{files[0][1]}" template="RSYSLOG_TraditionalFileFormat")\n'
            f'action(type="omfile" file="{files[1][1]}" template="RSYSLOG_FileFormat")\n'
        )
    start([rsyslogd, "-n", "-f", conf, "-i", os.path.join(d, "rsyslogd.pid")],
          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.time() + 30
    while not os.path.exists(sock):
        if time.time() > end:
            raise RuntimeError("rsyslogd did not open its socket")
        time.sleep(0.1)

    def act(k):
        for i in range(2):
            subprocess.run([logger, "-u", sock, "-t", "app", f"burst {k} line {i}"],
                           check=True, timeout=10)

    act(-1)
    bursts(files, act)


@producer("uwsgi", [("", False)])
def _uwsgi(d, files):
    uwsgi = need("uwsgi")
    if not os.path.exists("/usr/lib/uwsgi/plugins/python3_plugin.so"):
        raise Skip("uwsgi-plugin-python3 is not installed")
    port = free_port()
    with open(os.path.join(d, "app.py"), "w") as f:
        f.write(
            "def application(environ, start_response):\n"
            "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
            "    return [b'ok']\n"
        )
    start([uwsgi, "--plugin", "python3", "--http-socket", f"127.0.0.1:{port}",
           "--wsgi-file", os.path.join(d, "app.py"), "--logto", files[0][1],
           "--processes", "1", "--threads", "1"],
          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=d)
    if not wait_port(port):
        raise RuntimeError("uwsgi did not listen")
    http_get(port, "/warm")
    bursts(files, lambda k: [http_get(port, f"/burst{k}/{i}") for i in range(3)])


def main():
    os.makedirs(OUT, exist_ok=True)
    threads = []
    for name, files_zoned, fn in PRODUCERS:
        if ONLY and name not in ONLY:
            continue
        t = threading.Thread(target=run_producer, args=(name, files_zoned, fn), daemon=True)
        t.start()
        threads.append((name, files_zoned, t))
    end = time.time() + DEADLINE
    try:
        for _, _, t in threads:
            t.join(max(0.1, end - time.time()))
    finally:
        stop_all()
    for name, files_zoned, t in threads:
        if t.is_alive():
            for f, _ in files_zoned:
                note("fail", f"{name}-{f}" if f else name, f"still running after {DEADLINE} s")
    with lock:
        lines = list(manifest)
    with open(os.path.join(OUT, "manifest.tsv"), "w") as f:
        f.write("".join(line + "\n" for line in lines))


if __name__ == "__main__":
    main()
