"""Shared helpers of the bench scripts: opening a database, a POS shop with cash and credit methods,
till-like order data, per-call measurement, and the results file read by `summary.py`.

Every script stays runnable alone (`python bench/<script>.py <odoo.conf> <db> [N]`); when the
environment variable BENCH_RESULTS names a file, each figure checked against a target is also
appended to it as one JSON line, and `make bench` prints them all in one table at the end.
"""

# pylint: disable=print-used
import collections
import contextlib
import json
import os
import platform
import re
import signal
import subprocess
import sys
import threading
import time
import uuid

import requests

import odoo
from odoo import api, fields, sql_db


def machine():
    """`2 cores, AMD EPYC ...`: where the figures were measured."""
    model = platform.processor() or "?"
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for row in cpuinfo:
            if row.startswith("model name"):
                model = row.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {model}"


def record(figure, measured, target, ok, unit=""):
    """Print one figure against its target and keep it for the summary table."""
    verdict = "ok" if ok else "KO"
    print(f"  [{verdict}] {figure}: {measured}{unit} (target {target})")
    path = os.environ.get("BENCH_RESULTS")
    if path:
        with open(path, "a", encoding="utf-8") as results:
            row = {"figure": figure, "measured": f"{measured}{unit}", "target": target, "ok": bool(ok)}
            results.write(json.dumps(row) + "\n")


def info(figure, measured):
    """A figure without a target (shown in the summary for context)."""
    print(f"  {figure}: {measured}")
    path = os.environ.get("BENCH_RESULTS")
    if path:
        with open(path, "a", encoding="utf-8") as results:
            results.write(json.dumps({"figure": figure, "measured": str(measured), "target": "-", "ok": None}) + "\n")


def registry_of(conf, dbname):
    odoo.tools.config.parse_config(["-c", conf, "-d", dbname])
    return odoo.modules.registry.Registry(dbname)


def admin_env(cr):
    """The administrator (a POS manager in the demo data: the superuser may not open a session)."""
    env = api.Environment(cr, odoo.SUPERUSER_ID, {})
    return env(user=env.ref("base.user_admin"))


class Shop:
    """A POS shop with a cash and a credit method, `n_configs` configs with an open session each,
    three tax-free products and `n_partners` customers topped up with `topup` credit each."""

    def __init__(self, env, n_partners=10, topup=1_000_000.0, n_configs=1, name="Bench"):
        self.env = env
        company = self.company = env.company
        company._customer_credit_setup_accounting()
        self.cash_journal = env["account.journal"].search(
            [("type", "=", "cash"), ("company_id", "=", company.id)], limit=1
        )
        self.credit_method = env["pos.payment.method"].create(
            {
                "name": f"{name} Credit",
                "is_credit_method": True,
                "journal_id": company.credit_journal_id.id,
                "receivable_account_id": company.credit_clearing_account_id.id,
                "split_transactions": False,
                "company_id": company.id,
            }
        )
        # Odoo wants a cash journal and cash method of its own per point of sale
        tag = uuid.uuid4().hex[:3].upper()
        journals = env["account.journal"].create(
            [
                {"name": f"{name} Cash {index}", "type": "cash", "code": f"B{tag}{index}", "company_id": company.id}
                for index in range(n_configs)
            ]
        )
        self.cash_methods = env["pos.payment.method"].create(
            [
                {"name": f"{name} Cash {index}", "journal_id": journal.id, "company_id": company.id}
                for index, journal in enumerate(journals)
            ]
        )
        self.cash_method = self.cash_methods[0]
        # one at a time: pos.config's cash method check expects a single record
        self.configs = env["pos.config"]
        for index, cash_method in enumerate(self.cash_methods):
            self.configs |= env["pos.config"].create(
                {"name": f"{name} Shop {index}", "payment_method_ids": [(6, 0, (cash_method | self.credit_method).ids)]}
            )
        for config in self.configs:
            config.open_ui()
        self.sessions = self.configs.current_session_id
        self.session = self.sessions[:1]
        self.products = env["product.product"].create(
            [
                {
                    "name": f"{name} product {i}",
                    "type": "consu",
                    "available_in_pos": True,
                    "list_price": 5.0 + i,
                    "taxes_id": False,
                }
                for i in range(3)
            ]
        )
        self.partners = env["res.partner"].create([{"name": f"{name} customer {i}"} for i in range(n_partners)])
        service = env["customer.credit.service"].sudo()
        if topup:
            for partner in self.partners:
                service._topup(partner, topup, self.cash_journal)
        env.flush_all()

    def order(self, method, index, partner=None, session=None, products=None):
        """The order a till sends to `sync_from_ui` once paid, entirely with `method` (the cash
        method of the order's session when `method` is any cash method)."""
        partner = partner if partner is not None else self.partners[index % len(self.partners)]
        session = session or self.session
        if method in self.cash_methods:
            method = self.cash_methods[list(self.sessions).index(session)]
        return order_data(session, products or self.products, partner, method, index, self.env.uid)


def order_line(product, price, qty=1, **extra):
    return (
        0,
        0,
        {
            "price_unit": price,
            "product_id": product.id,
            "price_subtotal": price * qty,
            "price_subtotal_incl": price * qty,
            "qty": qty,
            "discount": 0.0,
            "tax_ids": [(6, 0, [])],
            "pack_lot_ids": [],
            "uuid": str(uuid.uuid4()),
            **extra,
        },
    )


def order_data(session, products, partner, method, index, uid, extra_lines=(), paid=None):
    """A paid order of one of each product for `partner`, paid in full by `method` (no payment
    when the order total is zero, e.g. paid by an eWallet reward line)."""
    lines = [order_line(product, product.lst_price) for product in products]
    lines += list(extra_lines)
    total = round(sum(line[2]["price_subtotal_incl"] for line in lines), 2)
    paid = total if paid is None else paid
    payments = []
    if method and paid:
        payments.append(
            (
                0,
                0,
                {
                    "amount": paid,
                    "name": fields.Datetime.now(),
                    "payment_method_id": method.id,
                    "uuid": str(uuid.uuid4()),
                },
            )
        )
    return {
        "amount_paid": paid,
        "amount_return": 0,
        "amount_tax": 0.0,
        "amount_total": total,
        "date_order": fields.Datetime.to_string(fields.Datetime.now()),
        "fiscal_position_id": False,
        "pricelist_id": session.config_id.pricelist_id.id,
        "name": f"Bench order {index}",
        "last_order_preparation_change": "{}",
        "lines": lines,
        "partner_id": partner.id if partner else False,
        "session_id": session.id,
        "sequence_number": index,
        "payment_ids": payments,
        "uuid": str(uuid.uuid4()),
        "user_id": session.env.uid if uid is None else uid,
        "to_invoice": False,
    }


def measure(env, orders, calls):
    """Run `calls(env, data)` for each order data; each RPC of the till is one call started on an
    empty cache, as an RPC is. `calls` yields once per round-trip. Returns (seconds, queries,
    round-trips) per order."""
    cr = env.cr
    elapsed, queries, trips = 0.0, 0, 0
    for data in orders:
        for step in calls(env, data):
            env.invalidate_all()
            env.flush_all()
            before = cr.sql_log_count
            start = time.perf_counter()
            step()
            env.flush_all()
            elapsed += time.perf_counter() - start
            queries += cr.sql_log_count - before
            trips += 1
    count = len(orders) or 1
    return elapsed / count, queries / count, trips / count


def sync(env, data):
    """The till's one round-trip for a paid order."""
    yield lambda: env["pos.order"].sync_from_ui([data])


def fmt_ms(seconds):
    return f"{seconds * 1000:.2f} ms"


class QueryKinds:
    """Counts the SQL queries run by a cursor while active, by verb and table (`SELECT res_partner`)."""

    def __init__(self):
        self.counts = collections.Counter()
        self._cursor_class = None
        self._execute = None

    @staticmethod
    def kind(query):
        text = re.sub(r"\s+", " ", query if isinstance(query, str) else str(query)).strip()
        text = re.sub(r"^SQL\('(\\n|\s)*", "", text)
        verbs = "SELECT|INSERT INTO|UPDATE|DELETE FROM|SAVEPOINT|RELEASE|ROLLBACK|WITH"
        match = re.match(rf"({verbs})\b\s*(.*)", text, re.I)
        if not match:
            return text[:40]
        verb, rest = match.group(1).upper(), match.group(2)
        if verb in ("SAVEPOINT", "RELEASE", "ROLLBACK"):
            return verb
        table = re.search(r'FROM\s+"?(\w+)"?', rest) if verb in ("SELECT", "WITH") else re.match(r'"?(\w+)"?', rest)
        return f"{verb} {table.group(1) if table else '?'}"

    def __enter__(self):

        self._cursor_class, self._execute = sql_db.Cursor, sql_db.Cursor.execute
        counts, execute, kind = self.counts, self._execute, self.kind

        def counting_execute(cursor, query, params=None, log_exceptions=True):
            counts[kind(query)] += 1
            return execute(cursor, query, params, log_exceptions)

        sql_db.Cursor.execute = counting_execute
        return self

    def __exit__(self, *exc):
        self._cursor_class.execute = self._execute


def print_query_diff(title, counts, base, count, top=12):
    """The kinds of queries `counts` runs more than `base`, per order (over `count` orders)."""
    diff = {kind: (counts.get(kind, 0) - base.get(kind, 0)) / count for kind in set(counts) | set(base)}
    print(f"  {title}")
    for kind, extra in sorted(diff.items(), key=lambda item: -item[1])[:top]:
        if extra > 0:
            print(f"    {extra:+6.1f}  {kind}")


# ---------------------------------------------------------------------------
# A real multi-process server and JSON-RPC clients (bench_workers.py, bench_channels.py)
# ---------------------------------------------------------------------------


def server_args(default_n, default_port=8074):
    """`(N, PORT)` of a multi-process bench, run as `python bench/<script>.py <odoo.conf> <db> [N] [PORT]`."""
    count = int(sys.argv[3]) if len(sys.argv) > 3 else default_n
    port = int(sys.argv[4]) if len(sys.argv) > 4 else default_port
    return count, port


def serve(conf, dbname, workers, port, name):
    """An `OdooServer` (use it with `with`) logging to `bench-<name>.log` in $BENCH_LOGDIR (default /tmp)."""
    logfile = os.path.join(os.environ.get("BENCH_LOGDIR", "/tmp"), f"bench-{name}.log")
    return OdooServer(conf, dbname, workers, port, logfile)


class OdooServer:
    """`odoo-bin --workers=N` on 127.0.0.1:`port` (its longpolling port is `port + 1`), serving only
    `dbname`, without cron; stopped (its whole process group) on exit. Its log goes to `logfile`,
    with Odoo's concurrency retries (odoo.service.model) logged."""

    def __init__(self, conf, dbname, workers, port, logfile):
        self.conf, self.dbname, self.workers, self.port, self.logfile = conf, dbname, workers, port, logfile
        self.url = f"http://127.0.0.1:{port}"
        self.process = None

    def __enter__(self):

        odoo_bin = os.path.join(os.path.dirname(os.path.dirname(odoo.__file__)), "odoo-bin")
        command = [
            sys.executable,
            odoo_bin,
            "-c",
            self.conf,
            "-d",
            self.dbname,
            f"--db-filter=^{self.dbname}$",
            f"--workers={self.workers}",
            "--max-cron-threads=0",
            "--http-interface=127.0.0.1",
            f"--http-port={self.port}",
            f"--gevent-port={self.port + 1}",
            "--limit-time-real=600",
            "--limit-time-cpu=600",
            "--log-level=warn",
            "--log-handler=odoo.service.model:INFO",
            f"--logfile={self.logfile}",
        ]
        for port in (self.port, self.port + 1):
            with contextlib.suppress(requests.RequestException):
                requests.get(f"http://127.0.0.1:{port}/web/health", timeout=2)
                raise RuntimeError(f"something already serves 127.0.0.1:{port}: choose other ports")
        with open(self.logfile, "w", encoding="utf-8"):
            pass  # a fresh log per run
        self.process = subprocess.Popen(command, start_new_session=True)
        try:
            self._wait_ready()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _wait_ready(self):
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"odoo-bin stopped at start, see {self.logfile}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.url}/web/health", timeout=2).ok:
                    self._check_log()
                    return
            time.sleep(0.5)
        raise RuntimeError(f"odoo-bin did not answer on {self.url} within 120 s")

    def _check_log(self):
        with open(self.logfile, encoding="utf-8", errors="replace") as log:
            if any("Some modules are not loaded" in row or "not installable" in row for row in log):
                raise RuntimeError(f"odoo-bin could not load customer_credit, see {self.logfile}")

    def __exit__(self, *exc):
        if not self.process:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            pass
        # whatever is left of the group (workers, the longpolling process)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(10)

    def retries(self):
        """How many times Odoo re-ran a request after a concurrency error (serialization failure,
        lock not available, deadlock), from the server's log."""
        with open(self.logfile, encoding="utf-8", errors="replace") as log:
            return sum(1 for row in log if "tries left, try again" in row)


class RpcError(Exception):
    def __init__(self, error):
        data = error.get("data") or {}
        self.name = data.get("name") or error.get("message") or "?"
        self.message = data.get("message") or error.get("message") or ""
        super().__init__(f"{self.name}: {self.message}")


class RpcClient:
    """A logged-in web session (as the POS and the website use), calling models through
    /web/dataset/call_kw."""

    def __init__(self, url, dbname, login, password):

        self.url = url
        self.http = requests.Session()
        self.uid = self._json("/web/session/authenticate", {"db": dbname, "login": login, "password": password})["uid"]

    def _json(self, path, params):
        reply = self.http.post(
            f"{self.url}{path}", json={"jsonrpc": "2.0", "method": "call", "id": 1, "params": params}, timeout=600
        )
        reply.raise_for_status()
        body = reply.json()
        if body.get("error"):
            raise RpcError(body["error"])
        return body["result"]

    def call(self, model, method, *args, **kwargs):
        return self._json(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )


def jsonable_order(data):
    """Order data as the till's JSON carries it (datetimes as strings)."""
    return json.loads(json.dumps(data, default=str))


class LockSampler:
    """Samples pg_stat_activity of `dbname` every `interval` s from a thread: how often a backend of
    the database waits on a heavyweight lock, and on what (the waiting query's first words)."""

    def __init__(self, dbname, interval=0.01):

        self.dbname, self.interval = dbname, interval
        self.samples = 0
        self.waiting_samples = 0
        self.busy_samples = 0
        self.waits = collections.Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):

        with sql_db.db_connect("postgres").cursor() as cr:
            while not self._stop.is_set():
                cr.execute(
                    """SELECT wait_event_type, wait_event, left(regexp_replace(query, '\\s+', ' ', 'g'), 70)
                         FROM pg_stat_activity
                        WHERE datname = %s AND state = 'active' AND pid != pg_backend_pid()""",
                    (self.dbname,),
                )
                rows = cr.fetchall()
                cr.commit()  # the statistics are a snapshot per transaction
                self.samples += 1
                self.busy_samples += bool(rows)
                waiting = [row for row in rows if row[0] == "Lock"]
                if waiting:
                    self.waiting_samples += 1
                    for __, event, query in waiting:
                        self.waits[f"{event}: {query}"] += 1
                time.sleep(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(10)

    def report(self, top=4):
        share = self.waiting_samples / self.samples if self.samples else 0.0
        busy = self.busy_samples / self.samples if self.samples else 0.0
        rows = [f"{count:5d}  {what}" for what, count in self.waits.most_common(top)]
        return share, busy, rows
