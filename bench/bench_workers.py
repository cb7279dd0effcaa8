"""Throughput of credit spends of different customers on a real multi-process server.

    python bench/bench_workers.py <odoo.conf> <db> [N] [PORT]

Commits its set-up in <db> (use a scratch copy: `make bench` does). Tills (one POS config and
session each, their own customers) send paid orders through `pos.order.sync_from_ui` over
JSON-RPC (/web/session/authenticate, then /web/dataset/call_kw, as the POS does) from CLIENTS client
threads at once, to `odoo-bin --workers=1`, `--workers=2`, `--workers=2` and `--workers=1` again
(so that a drift of the machine's load weighs on both; 127.0.0.1:PORT, default 8074, its longpolling
port PORT+1, no cron). N orders per worker count (default 400), paid by credit, then as many paid in
cash (the machine's own limit, no credit posting). Prints orders/s, the ratio 2 workers / 1 worker,
Odoo's concurrency retries, and how often a backend waited on a lock and on which query: every
credit movement posts in the one Customer Credit journal; had Odoo named those entries from the
journal's last name (account/models/sequence_mixin.py `_get_last_sequence`, then the unique index on
(name, journal_id) of posted entries), two concurrent postings would queue there until commit. The
share of a sync that holds such a name is measured in one process first.

Target (issue 14): credit spends/s with 2 workers >= 1.6x with 1 worker.
"""

# pylint: disable=print-used
import sys
import threading
import time

from benchlib import (
    LockSampler,
    RpcClient,
    Shop,
    admin_env,
    info,
    jsonable_order,
    machine,
    record,
    registry_of,
    serve,
    server_args,
)

N, PORT = server_args(400)
CLIENTS = 4
WARM_UP = 3
TARGET = 1.6
ORDER = (1, 2, 2, 1)


def journal_hold(env, shop, count=20):
    """In one process: the share of a credit order's sync during which its transaction holds the
    Credit journal's next entry name (from the name's write in `_set_next_sequence` to the end of
    the call, i.e. the commit), which a concurrent posting in that journal waits for. With a share
    f, the transactions of all workers together cannot post faster than 1/f of one worker's rate."""
    # imported once the addons path is set (by registry_of)
    from odoo.addons.account.models.sequence_mixin import SequenceMixin  # noqa: PLC0415

    journal = shop.company.credit_journal_id
    marks = {}
    original = SequenceMixin._set_next_sequence

    def set_next_sequence(record):
        if record._name == "account.move" and record.journal_id == journal and "first" not in marks:
            marks["first"] = time.perf_counter()
        return original(record)

    SequenceMixin._set_next_sequence = set_next_sequence
    total = held = 0.0
    try:
        for i in range(count):
            data = shop.order(shop.credit_method, 10_000 + i)
            env.invalidate_all()
            marks.clear()
            start = time.perf_counter()
            env["pos.order"].sync_from_ui([data])
            env.flush_all()
            end = time.perf_counter()
            total += end - start
            held += end - marks.get("first", end)
    finally:
        SequenceMixin._set_next_sequence = original
    env.cr.rollback()
    return total / count, held / count


def setup(registry):
    """Committed: CLIENTS tills with their own customers (topped up), the orders to send."""
    with registry.cursor() as cr:
        env = admin_env(cr)
        shop = Shop(env, n_partners=CLIENTS * 5, n_configs=CLIENTS, name="Bench MP")
        cr.commit()
        hold = journal_hold(env, shop)
        plan = {}
        per_client = N // (CLIENTS * 2) + WARM_UP
        for kind, method in (("credit", shop.credit_method), ("cash", shop.cash_method)):
            for step, _workers in enumerate(ORDER):
                plan[kind, step] = [
                    [
                        jsonable_order(
                            shop.order(
                                method,
                                step * 1000 + i,
                                partner=shop.partners[client * 5 + i % 5],
                                session=shop.sessions[client],
                            )
                        )
                        for i in range(per_client)
                    ]
                    for client in range(CLIENTS)
                ]
        return plan, shop.partners.ids, hold


def run(server, dbname, orders_per_client):
    """Each client thread logs in, sends its warm-up orders, waits for the others, then sends the
    rest one per call. Returns (seconds, orders sent, errors)."""
    barrier = threading.Barrier(len(orders_per_client) + 1)
    errors, sent = [], []

    def client(orders):
        rpc = None
        try:
            rpc = RpcClient(server.url, dbname, "admin", "admin")
            for data in orders[:WARM_UP]:
                rpc.call("pos.order", "sync_from_ui", [data])
        except Exception as error:  # reported, the run goes on
            errors.append(f"warm-up: {error}")
        barrier.wait()
        for data in orders[WARM_UP:] if rpc else []:
            try:
                rpc.call("pos.order", "sync_from_ui", [data])
                sent.append(1)
            except Exception as error:  # counted as an error of the run
                errors.append(str(error))
        barrier.wait()

    threads = [threading.Thread(target=client, args=(orders,)) for orders in orders_per_client]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    barrier.wait()
    elapsed = time.perf_counter() - start
    for thread in threads:
        thread.join()
    return elapsed, len(sent), errors


def main(conf, dbname):
    registry = registry_of(conf, dbname)
    plan, partner_ids, hold = setup(registry)
    totals = {(kind, workers): [0.0, 0, [], 0] for kind in ("credit", "cash") for workers in (1, 2)}
    locks = {}
    # 1, 2, 2, 1 workers: a drift of the machine's load during the run weighs on both alike
    for step, workers in enumerate(ORDER):
        with serve(conf, dbname, workers, PORT, f"workers-{dbname}-{step}") as server:
            for kind in ("credit", "cash"):
                retries = server.retries()
                with LockSampler(dbname) as sampler:
                    elapsed, sent, errors = run(server, dbname, plan[kind, step])
                total = totals[kind, workers]
                total[0] += elapsed
                total[1] += sent
                total[2] += errors
                total[3] += server.retries() - retries
                if workers == 2:
                    locks[kind, workers, step] = sampler.report()
                print(
                    f"  {workers} worker(s), {kind:6}: {sent} orders in {elapsed:.1f} s = {sent / elapsed:.2f}/s, "
                    f"{len(errors)} errors, {server.retries() - retries} retries"
                )
                for error in errors[:3]:
                    print(f"      error: {error[:200]}")
    results = {key: (sent / elapsed, sent, errors, retries) for key, (elapsed, sent, errors, retries) in totals.items()}

    # every order paid by credit is spent once, and the books follow the ledger
    with registry.cursor() as cr:
        env = admin_env(cr)
        lines = env["customer.credit.line"].search([("partner_id", "in", partner_ids), ("kind", "=", "spend")])
        payments = env["pos.payment"].search(
            [("partner_id", "in", partner_ids), ("payment_method_id.is_credit_method", "=", True)]
        )
        double = len(lines) - len(lines.pos_payment_id)
        company = env.company
        gl = env["account.move.line"].read_group(
            [
                ("account_id", "=", company.credit_account_id.id),
                ("partner_id", "in", partner_ids),
                ("parent_state", "=", "posted"),
            ],
            ["balance:sum"],
            [],
        )[0]["balance"]
        ledger = sum(env["customer.credit.line"].search([("partner_id", "in", partner_ids)]).mapped("amount"))

    print(f"Credit spends of different customers on a multi-process server ({machine()}), {CLIENTS} clients")
    for kind in ("credit", "cash"):
        one, two = results[kind, 1][0], results[kind, 2][0]
        print(f"  {kind:6}: 1 worker {one:6.2f} orders/s, 2 workers {two:6.2f} orders/s, ratio {two / one:.2f}x")
    for (kind, workers, __), (share, busy, rows) in locks.items():
        print(
            f"  lock waits, {kind}, {workers} worker(s): a backend waited on a lock in {share:.0%} of the samples "
            f"(busy in {busy:.0%})"
        )
        for row in rows:
            print(f"      {row}")
    if hold[1]:
        print(
            f"  one process: a credit order's sync takes {hold[0] * 1000:.0f} ms, of which {hold[1] * 1000:.0f} ms "
            f"({hold[1] / hold[0]:.0%}) hold the Credit journal's next entry name until commit"
        )
    else:
        print(
            f"  one process: a credit order's sync takes {hold[0] * 1000:.0f} ms; no Credit journal entry was named "
            "by sequence_mixin (_set_next_sequence): nothing to wait for between tills there"
        )
    print(f"  credit payments {len(payments)}, spend lines {len(lines)}, duplicated spends {double}")
    print(f"  Customer Credit account {gl:.2f} vs ledger {-ledger:.2f} (balance = -ledger)")
    credit_ratio = results["credit", 2][0] / results["credit", 1][0]
    cash_ratio = results["cash", 2][0] / results["cash", 1][0]
    info("Workers: credit orders/s 1 -> 2 workers", f"{results['credit', 1][0]:.2f} -> {results['credit', 2][0]:.2f}")
    info(
        "Workers: cash orders/s 1 -> 2 workers (machine limit)",
        f"{results['cash', 1][0]:.2f} -> {results['cash', 2][0]:.2f} ({cash_ratio:.2f}x)",
    )
    record(
        "Workers: credit throughput 2/1 workers", f"{credit_ratio:.2f}", f">= {TARGET}x", credit_ratio >= TARGET, "x"
    )
    info("Workers: credit scaling / cash scaling (same machine load)", f"{credit_ratio / cash_ratio:.2f}")
    share = max(report[0] for (kind, *__), report in locks.items() if kind == "credit")
    info("Workers: credit, 2 workers: samples waiting on a lock", f"{share:.0%}")
    info("Workers: share of a credit sync holding the journal name", f"{hold[1] / hold[0]:.0%}")
    errors = sum(len(results[key][2]) for key in results)
    books_ok = abs(gl + ledger) < 0.005
    record(
        "Workers: errors, double spends, GL = ledger",
        f"{errors}, {double}, {books_ok}",
        "0, 0, True",
        not errors and not double and books_ok,
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
