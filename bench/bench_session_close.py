"""Closing a POS session of N credit-paid orders compared with one of N cash-paid orders.

    python bench/bench_session_close.py <odoo.conf> <db> [N]

Two sessions are filled through `sync_from_ui` with N orders each (default 1,000): one paid in cash,
one paid by customer credit (spent at sync). Each is then closed as the till closes it: the counted
cash (`post_closing_cash_details`), then `close_session_from_ui`, which runs
`action_pos_session_closing_control` → `_validate_session` (closing entry, reconciliation of the
POS Credit Clearing account with the spends). A small session is closed first as a warm-up. The
time and queries of the close are compared. Everything runs in one transaction that is rolled back.

Target (issue 14): closing the credit session <= 1.2x the cash session.
"""

# pylint: disable=print-used
import sys
import time

from benchlib import Shop, admin_env, fmt_ms, info, machine, record, registry_of

N = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
BATCH = 25
TARGET = 1.2


def fill(env, shop, session, method, count, offset):
    for start in range(0, count, BATCH):
        size = min(BATCH, count - start)
        env["pos.order"].sync_from_ui([shop.order(method, offset + start + i, session=session) for i in range(size)])
        env.flush_all()
        env.invalidate_all()


def close(env, session):
    """Close as the till does; returns (seconds, queries)."""
    env.invalidate_all()
    env.flush_all()
    session = session.with_env(env)
    session.post_closing_cash_details(session.cash_register_balance_end)
    env.flush_all()
    env.invalidate_all()
    cr = env.cr
    before = cr.sql_log_count
    start = time.perf_counter()
    result = session.close_session_from_ui()
    env.flush_all()
    elapsed = time.perf_counter() - start
    queries = cr.sql_log_count - before
    if not result.get("successful") or session.state != "closed":
        raise RuntimeError(f"{session.name} did not close: {result}")
    return elapsed, queries


def main(conf, dbname):
    registry = registry_of(conf, dbname)
    with registry.cursor() as cr:
        env = admin_env(cr)
        shop = Shop(env, n_configs=3, n_partners=50)
        warm_up, cash_session, credit_session = shop.sessions
        start = time.perf_counter()
        fill(env, shop, warm_up, shop.credit_method, 10, 0)
        fill(env, shop, warm_up, shop.cash_method, 10, 10)
        fill(env, shop, cash_session, shop.cash_method, N, 100)
        fill(env, shop, credit_session, shop.credit_method, N, 100 + N)
        setup = time.perf_counter() - start
        close(env, warm_up)
        cash = close(env, cash_session)
        credit = close(env, credit_session)
        env.invalidate_all()
        clearing = shop.company.credit_clearing_account_id
        spend_lines = env["customer.credit.line"].search([("pos_order_id.session_id", "=", credit_session.id)])
        open_clearing = len(
            (credit_session.move_id | spend_lines.move_id).line_ids.filtered(
                lambda line: line.account_id == clearing and not line.reconciled
            )
        )
        spends = env["customer.credit.line"].search_count(
            [("kind", "=", "spend"), ("pos_order_id.session_id", "=", credit_session.id)]
        )
        cr.rollback()

    print(f"POS session close on {machine()}: {N} cash orders vs {N} credit orders ({spends} spends)")
    print(f"  (set-up: {N * 2 + 20} orders synced in {setup:.0f} s)")
    print(f"  cash session:   close {fmt_ms(cash[0]):>12}  {cash[1]:6d} queries")
    print(f"  credit session: close {fmt_ms(credit[0]):>12}  {credit[1]:6d} queries")
    print(f"  unreconciled POS Credit Clearing lines of the credit session: {open_clearing}")
    ratio = credit[0] / cash[0]
    info("Session close: cash / credit time", f"{cash[0]:.2f} s / {credit[0]:.2f} s")
    record(f"Session close ({N} orders): credit/cash time", f"{ratio:.2f}", f"<= {TARGET}x", ratio <= TARGET, "x")
    info("Session close: cash / credit queries", f"{cash[1]} / {credit[1]}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
