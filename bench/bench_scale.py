"""A chain's ledger: 100,000 customers and 1,000,000 ledger lines, then the reads that must stay fast.

    python bench/bench_scale.py <odoo.conf> <db> [N] [CHART.png]

Writes (and commits) its data in <db>: use a scratch copy (`make bench` does). N ledger lines
(default 1,000,000) for N/10 customers are generated with SQL (INSERT ... SELECT generate_series),
in steps (N/10, N/2, N lines), as the service would have written them:

- one generic lot of 1,000.00 per customer (its top-up), then spends of 1.00; one customer (the
  "heavy" one) makes 10% of all spends, the others share the rest;
- one posted journal entry per ledger line in the Customer Credit journal, named in the journal's
  own sequence, with its Customer Credit line (the customer's) and its counterpart line. Shortcut:
  the counterpart of generated top-ups is POS Credit Clearing, not a cash journal, and the running
  balances of generated lines (`partner_balance_before/after`) are approximate. The foreign keys
  of the generated tables are dropped for the bulk inserts and added back NOT VALID (checked for
  every row written afterwards; the generated rows are right by construction);
- the customers' stored balances (`customer.credit.balance`) get each step's lines in one grouped
  write: the ledger's per-line trigger is off during the bulk insert only.

At each size (0, N/10, N/2, N) a few real spends (`_spend`, rolled back) of a typical customer and
of the heavy one are timed → the chart (time per spend vs ledger size, CHART, default
bench/spend_vs_ledger.png). At the full size it measures, on an empty cache:

- a customer's balance read (`partner.credit_available`, and the service's `_get_balances`):
  target <= 2 ms and <= 3 queries, for a typical and for the heavy customer;
- the movements list as the web client opens it (`web_search_read`, the list view's fields, limit
  80, default order, count limit 10,001): target < 1 s;
- the POS customer load (`res.partner._load_pos_data` of a till, then the same read of 100 and
  1,000 customers): the number of queries must not grow with the number of customers;
- the reconciliation check (Customer Credit account vs the ledger, per customer), through the
  `customer.credit.reconciliation` report when it exists, else the equivalent SQL: target <= 2 s.
"""

# pylint: disable=print-used
import os
import statistics
import sys
import time

from benchlib import QueryKinds, Shop, admin_env, fmt_ms, info, machine, print_query_diff, record, registry_of
from lxml import etree

N = int(sys.argv[3]) if len(sys.argv) > 3 else 1_000_000
CHART = (
    sys.argv[4]
    if len(sys.argv) > 4
    else os.path.join(os.path.dirname(os.path.abspath(__file__)), "spend_vs_ledger.png")
)
CUSTOMERS = max(N // 10, 100)
HEAVY_SHARE = 10  # one spend in 10 is the heavy customer's
REPEAT = 10


class Rollback(Exception):
    pass


def timed(env, func, repeat=REPEAT):
    """Median seconds and queries of `func()` on an empty cache."""
    times, queries = [], []
    cr = env.cr
    for _i in range(repeat):
        env.invalidate_all()
        env.flush_all()
        before = cr.sql_log_count
        start = time.perf_counter()
        func()
        env.flush_all()
        times.append(time.perf_counter() - start)
        queries.append(cr.sql_log_count - before)
    return statistics.median(times), statistics.median(queries)


def rolled_back(env, func):
    """Run `func()` in a savepoint that is rolled back."""
    result = None
    try:
        with env.cr.savepoint():
            result = func()
            raise Rollback
    except Rollback:
        pass
    env.invalidate_all()
    return result


# ---------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------


def sequence_start(env, journal):
    """The prefix and last number of the Credit journal's current sequence (after one real entry)."""
    env.cr.execute(
        """SELECT sequence_prefix, MAX(sequence_number) FROM account_move
            WHERE journal_id = %s AND state = 'posted' AND sequence_prefix IS NOT NULL
         GROUP BY sequence_prefix ORDER BY MAX(id) DESC LIMIT 1""",
        (journal.id,),
    )
    return env.cr.fetchone()


GENERATED_TABLES = (
    "res_partner",
    "customer_credit",
    "customer_credit_line",
    "customer_credit_balance",
    "account_move",
    "account_move_line",
)


def drop_foreign_keys(env):
    """The foreign keys of the generated tables, dropped for the bulk inserts (a check per row and
    key would take most of the time); `restore_foreign_keys` adds them back NOT VALID, so they hold
    for every row written afterwards, and the generated rows are right by construction."""
    cr = env.cr
    cr.execute(
        """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
            WHERE contype = 'f' AND conrelid::regclass::text IN %s""",
        (GENERATED_TABLES,),
    )
    keys = cr.fetchall()
    for table, name, __ in keys:
        cr.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
    return keys


def restore_foreign_keys(env, keys):
    for table, name, definition in keys:
        env.cr.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition} NOT VALID')


def generate_customers(env):
    cr = env.cr
    cr.execute("SELECT to_regclass('bench_scale_customer')")
    if cr.fetchone()[0]:
        sys.exit("This database already holds the scale bench's data: run it on a fresh copy.")
    cr.execute(
        """CREATE TABLE bench_scale_customer (n int PRIMARY KEY, partner_id int NOT NULL, lot_id int);
           INSERT INTO bench_scale_customer (n, partner_id)
                SELECT g, nextval('res_partner_id_seq') FROM generate_series(0, %s - 1) g;
           INSERT INTO res_partner (id, name, complete_name, commercial_partner_id, active, type, is_company,
                                    autopost_bills, lang, customer_rank, supplier_rank,
                                    create_uid, write_uid, create_date, write_date)
                SELECT partner_id, 'Bench scale customer ' || n, 'Bench scale customer ' || n, partner_id, true,
                       'contact', false, 'ask', 'en_US', 0, 0, 1, 1, now() at time zone 'UTC',
                       now() at time zone 'UTC'
                  FROM bench_scale_customer;
           ANALYZE bench_scale_customer; ANALYZE res_partner;""",
        (CUSTOMERS,),
    )


def generate_lines(env, first, last, accounts):
    """Ledger lines number `first` .. `last - 1`: the first CUSTOMERS are the customers' top-ups, the
    others spends of 1.00. Each gets a posted entry of its own."""
    cr = env.cr
    company, journal, credit_account, clearing, prefix = accounts
    # the operations: number, customer, amount, entry id, date (one a minute, the newest last)
    cr.execute(
        """CREATE UNLOGGED TABLE bench_scale_op AS
           SELECT g,
                  CASE WHEN g < %(customers)s THEN g
                       WHEN g %% %(heavy)s = 0 THEN 0
                       ELSE 1 + g %% (%(customers)s - 1) END AS n,
                  CASE WHEN g < %(customers)s THEN (CASE WHEN g = 0 THEN 10000000.0 ELSE 1000.0 END)
                       ELSE -1.0 END AS amount,
                  nextval('account_move_id_seq') AS move_id,
                  (now() at time zone 'UTC') - (%(total)s - g) * interval '1 minute' AS at
             FROM generate_series(%(first)s, %(last)s - 1) g;
           ALTER TABLE bench_scale_op ADD COLUMN partner_id int, ADD COLUMN seq bigint;
           UPDATE bench_scale_op o SET partner_id = c.partner_id, seq = %(seq)s + g - %(first)s + 1
             FROM bench_scale_customer c WHERE c.n = o.n;
           ALTER TABLE bench_scale_op ADD COLUMN name varchar, ADD COLUMN ref varchar;
           UPDATE bench_scale_op SET name = %(prefix)s || lpad(seq::text, greatest(5, length(seq::text)), '0'),
                                     ref = CASE WHEN amount > 0 THEN 'Credit top-up' ELSE 'Paid with credit' END;
           ANALYZE bench_scale_op;""",
        {
            "customers": CUSTOMERS,
            "heavy": HEAVY_SHARE,
            "total": N,
            "first": first,
            "last": last,
            "seq": prefix[1],
            "prefix": prefix[0],
        },
    )
    values = {
        "company": company.id,
        "currency": company.currency_id.id,
        "journal": journal.id,
        "credit": credit_account.id,
        "clearing": clearing.id,
        "prefix": prefix[0],
    }
    cr.execute(
        """INSERT INTO account_move (id, name, ref, journal_id, company_id, currency_id, state, move_type, auto_post,
                                     date, sequence_prefix, sequence_number, partner_id, commercial_partner_id,
                                     amount_total, amount_total_signed, amount_total_in_currency_signed,
                                     amount_untaxed, amount_untaxed_signed, amount_tax, amount_tax_signed,
                                     amount_residual, amount_residual_signed, payment_state, checked,
                                     create_uid, write_uid, create_date, write_date)
                SELECT move_id, name, ref, %(journal)s, %(company)s, %(currency)s, 'posted', 'entry', 'no', at::date,
                       %(prefix)s, seq,
                       partner_id, partner_id, abs(amount), abs(amount), abs(amount), 0, 0, 0, 0, 0, 0,
                       'not_paid', true, 1, 1, at, at
                  FROM bench_scale_op""",
        values,
    )
    cr.execute(
        """INSERT INTO account_move_line (move_id, move_name, journal_id, company_id, company_currency_id, currency_id,
                                          account_id, partner_id, name, date, parent_state, display_type, debit,
                                          credit, balance, amount_currency, amount_residual,
                                          amount_residual_currency, reconciled, create_uid, write_uid, create_date,
                                          write_date)
                SELECT o.move_id, o.name, %(journal)s, %(company)s, %(currency)s, %(currency)s, side.account_id,
                       o.partner_id, o.ref, o.at::date, 'posted', 'product', greatest(side.balance, 0),
                       greatest(-side.balance, 0), side.balance, side.balance, side.balance, side.balance, false,
                       1, 1, o.at, o.at
                  FROM bench_scale_op o
            CROSS JOIN LATERAL (VALUES (%(credit)s, -o.amount), (%(clearing)s, o.amount)) side(account_id, balance)""",
        values,
    )
    if first < CUSTOMERS:  # the customers' lots (their top-ups)
        cr.execute(
            """WITH lots AS (
                   INSERT INTO customer_credit (name, partner_id, company_id, currency_id, credit_type, amount, balance,
                                                state, origin, move_id, user_id, create_uid, write_uid, create_date,
                                                write_date)
                        SELECT 'BSC' || o.g, o.partner_id, %(company)s, %(currency)s, 'generic', o.amount, o.amount,
                               'active', 'manual', o.move_id, 1, 1, 1, o.at, o.at
                          FROM bench_scale_op o WHERE o.amount > 0
                     RETURNING id, partner_id)
               UPDATE bench_scale_customer c SET lot_id = lots.id FROM lots WHERE lots.partner_id = c.partner_id""",
            values,
        )
    # the customers' stored balances get the step's lines in one grouped write below, not row by row
    # from the ledger's trigger
    cr.execute("ALTER TABLE customer_credit_line DISABLE TRIGGER customer_credit_line_balance")
    cr.execute(
        """INSERT INTO customer_credit_line (name, operation_ref, date, kind, amount, currency_id, company_id,
                                             partner_id, lot_id, credit_type, partner_balance_before,
                                             partner_balance_after, lot_balance_before, lot_balance_after, move_id,
                                             user_id, create_uid, write_uid, create_date, write_date)
                SELECT CASE WHEN o.amount > 0 THEN 'Credit top-up' ELSE 'Paid with credit' END, 'BS' || o.g, o.at,
                       CASE WHEN o.amount > 0 THEN 'topup' ELSE 'spend' END, o.amount, %(currency)s, %(company)s,
                       o.partner_id, c.lot_id, 'generic', b.before, b.before + o.amount, b.before,
                       b.before + o.amount, o.move_id, 1, 1, 1, o.at, o.at
                  FROM bench_scale_op o
                  JOIN bench_scale_customer c ON c.n = o.n
                 CROSS JOIN LATERAL (SELECT CASE WHEN o.amount > 0 THEN 0.0
                                                 ELSE 1000.0 - (o.g / %(customers)s) END AS before) b""",
        {**values, "customers": CUSTOMERS},
    )
    cr.execute("ALTER TABLE customer_credit_line ENABLE TRIGGER customer_credit_line_balance")
    cr.execute(
        """INSERT INTO customer_credit_balance AS b (partner_id, company_id, balance, generic, product, overdraft)
                SELECT partner_id, %s, SUM(amount), SUM(amount), 0, 0 FROM bench_scale_op GROUP BY partner_id
           ON CONFLICT (partner_id, company_id) DO UPDATE
                   SET balance = b.balance + EXCLUDED.balance, generic = b.generic + EXCLUDED.generic""",
        (company.id,),
    )
    # the lots' stored balances, then fresh statistics for the planner
    cr.execute(
        """UPDATE customer_credit lot SET balance = lot.balance + s.spent,
                  state = CASE WHEN lot.balance + s.spent > 0 THEN 'active' ELSE 'used' END
             FROM (SELECT lot_id, SUM(amount) AS spent FROM bench_scale_op o
                     JOIN bench_scale_customer c ON c.n = o.n
                    WHERE o.amount < 0 GROUP BY lot_id) s
            WHERE lot.id = s.lot_id;
           DROP TABLE bench_scale_op;"""
    )
    cr.execute("SELECT COALESCE(MAX(sequence_number), 0) FROM account_move WHERE journal_id = %s", (journal.id,))
    prefix[1] = cr.fetchone()[0]
    for table in GENERATED_TABLES:
        cr.execute(f"ANALYZE {table}")
    env.invalidate_all()


# ---------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------


def spend_time(env, partner, clearing):
    service = env["customer.credit.service"].sudo()

    def spends():
        return timed(env, lambda: service._spend(partner, 1.0, counterpart_account=clearing))

    return rolled_back(env, spends)


def balance_reads(env, partner):
    Partner = env["res.partner"]
    service = env["customer.credit.service"].sudo()
    available = timed(env, lambda: Partner.browse(partner.id).credit_available, repeat=20)
    balances = timed(env, lambda: service._get_balances(Partner.browse(partner.id)), repeat=20)
    return available, balances


def movements_list(env, domain):
    Line = env["customer.credit.line"]
    arch = etree.fromstring(Line.get_views([(False, "list")])["views"]["list"]["arch"])
    specification = {}
    for name in arch.xpath("//field/@name"):
        field = Line._fields[name]
        specification[name] = {"fields": {"display_name": {}}} if field.type == "many2one" else {}
    return timed(
        env,
        lambda: Line.web_search_read(domain, specification, offset=0, limit=80, order=None, count_limit=10001),
        repeat=5,
    )


def pos_partner_load(env, config, partner_ids):
    Partner = env["res.partner"]
    data = {"pos.config": {"data": [{"id": config.id}]}, "pos.order": {"data": []}}
    load = timed(env, lambda: Partner._load_pos_data(data), repeat=3)
    fields_list = Partner._load_pos_data_fields(config.id)
    reads = {
        count: timed(
            env,
            lambda ids=partner_ids[:count]: Partner.search_read([("id", "in", ids)], fields_list, load=False),
            repeat=3,
        )
        for count in (100, 1000)
    }
    return load, reads


def reconciliation(env):
    if "customer.credit.reconciliation" in env:
        Report = env["customer.credit.reconciliation"]
        how = (
            "customer.credit.reconciliation._get_differences()"
            if hasattr(Report, "_get_differences")
            else "search_read"
        )
        func = Report._get_differences if hasattr(Report, "_get_differences") else lambda: Report.search_read([])
        seconds, queries = timed(env, func, repeat=3)
        return seconds, queries, len(func()), how
    sql = """
        WITH ledger AS (SELECT company_id, partner_id, SUM(amount) AS balance FROM customer_credit_line
                         GROUP BY company_id, partner_id),
             books AS (SELECT aml.company_id, aml.partner_id, -SUM(aml.balance) AS balance FROM account_move_line aml
                         JOIN res_company co ON co.id = aml.company_id AND co.credit_account_id = aml.account_id
                        WHERE aml.parent_state = 'posted' GROUP BY aml.company_id, aml.partner_id)
        SELECT COALESCE(l.partner_id, b.partner_id), COALESCE(l.balance, 0) - COALESCE(b.balance, 0)
          FROM ledger l FULL JOIN books b ON b.company_id = l.company_id AND b.partner_id = l.partner_id
         WHERE abs(COALESCE(l.balance, 0) - COALESCE(b.balance, 0)) >= 0.005"""
    rows = []

    def run():
        env.cr.execute(sql)
        rows[:] = env.cr.fetchall()

    seconds, queries = timed(env, run, repeat=3)
    return seconds, queries, len(rows), "SQL (no report model yet)"


def partner_ids_sample(env, count):
    env.cr.execute("SELECT partner_id FROM bench_scale_customer ORDER BY n LIMIT %s", (count,))
    return [row[0] for row in env.cr.fetchall()]


def chart(points, path):
    import matplotlib  # noqa: PLC0415 - only the chart needs it

    matplotlib.use("Agg")
    from matplotlib import pyplot, ticker  # noqa: PLC0415

    figure, axes = pyplot.subplots(figsize=(7, 4.2), dpi=110)
    for label, key in (("typical customer", "typical"), ("heavy customer (10% of the spends)", "heavy")):
        xs = [size for size, row in points if key in row]
        ys = [row[key] * 1000 for size, row in points if key in row]
        axes.plot(xs, ys, marker="o", label=label)
    axes.set_xlabel("ledger lines (customer.credit.line)")
    axes.set_ylabel("time per spend (ms, median)")
    axes.set_title(f"Credit spend vs ledger size ({machine()})", fontsize=9)
    axes.set_ylim(bottom=0)
    axes.xaxis.set_major_formatter(ticker.FuncFormatter(lambda value, __: f"{value / 1000:,.0f}k"))
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)


def main(conf, dbname):
    registry = registry_of(conf, dbname)
    points = []
    with registry.cursor() as cr:
        env = admin_env(cr)
        shop = Shop(env, n_partners=1, topup=1000.0, name="Bench scale")
        company = env.company
        clearing = company.credit_clearing_account_id
        cr.commit()
        fresh = shop.partners
        # size 0: the database as it is (a fresh customer)
        seconds, queries = spend_time(env, fresh, clearing)
        points.append((0, {"typical": seconds, "heavy": seconds}))
        print(f"  ledger {0:>9,}: spend {fmt_ms(seconds)} ({queries} queries)")
        journal = company.credit_journal_id
        prefix = list(sequence_start(env, journal))
        accounts = (company, journal, company.credit_account_id, clearing, prefix)
        started = time.perf_counter()
        keys = drop_foreign_keys(env)
        generate_customers(env)
        done = 0
        heavy = typical = None
        for size in (CUSTOMERS, N // 2, N):
            step = time.perf_counter()
            if not keys:
                keys = drop_foreign_keys(env)
            generate_lines(env, done, size, accounts)
            restore_foreign_keys(env, keys)
            keys = None
            cr.commit()
            done = size
            print(f"  generated {size:,} ledger lines ({time.perf_counter() - step:.0f} s for this step)")
            if heavy is None:
                cr.execute("SELECT partner_id FROM bench_scale_customer WHERE n IN (0, 1) ORDER BY n")
                heavy, typical = (env["res.partner"].browse(row[0]) for row in cr.fetchall())
            row = {}
            for key, partner in (("typical", typical), ("heavy", heavy)):
                seconds, queries = spend_time(env, partner, clearing)
                row[key] = seconds
                print(f"  ledger {size:>9,}: spend, {key} customer {fmt_ms(seconds)} ({queries} queries)")
            points.append((size, row))
        generation = time.perf_counter() - started
        cr.execute("SELECT COUNT(*) FROM customer_credit_line WHERE partner_id = %s", (heavy.id,))
        heavy_lines = cr.fetchone()[0]
        cr.execute("SELECT COUNT(*) FROM customer_credit_line")
        ledger_lines = cr.fetchone()[0]
        cr.execute("SELECT COUNT(*) FROM res_partner")
        partners = cr.fetchone()[0]

        reads = {key: balance_reads(env, partner) for key, partner in (("typical", typical), ("heavy", heavy))}
        sample = env["res.partner"].browse(partner_ids_sample(env, 100))
        env.invalidate_all()
        with QueryKinds() as read_kinds:
            env["res.partner"].browse(typical.id).credit_available  # noqa: B018 - the read measured
        env.invalidate_all()
        with QueryKinds() as pos_kinds:
            sample.read(["credit_available", "credit_due", "credit_pos_lots"])
        all_list = movements_list(env, [])
        heavy_list = movements_list(env, [("partner_id", "=", heavy.id)])
        cr.execute("SELECT partner_id FROM bench_scale_customer ORDER BY n LIMIT 1000")
        partner_ids = [row[0] for row in cr.fetchall()]
        pos_load, pos_reads = pos_partner_load(env, shop.configs[:1], partner_ids)
        recon = reconciliation(env)
        cr.rollback()

    chart(points, CHART)
    print(
        f"Scale on {machine()}: {ledger_lines:,} ledger lines, {partners:,} partners, generated in {generation:.0f} s"
    )
    print(f"  heavy customer: {heavy_lines:,} ledger lines; typical customer: ~{N // CUSTOMERS} lines")
    info("Scale: data generated (lines, customers, seconds)", f"{ledger_lines:,}, {CUSTOMERS:,}, {generation:.0f} s")
    for key, ((av_time, av_queries), (gb_time, gb_queries)) in reads.items():
        print(
            f"  {key} customer: credit_available {fmt_ms(av_time)} ({av_queries} queries), "
            f"_get_balances {fmt_ms(gb_time)} ({gb_queries} queries)"
        )
        record(
            f"Scale: balance read, {key} customer",
            f"{fmt_ms(av_time)}, {av_queries} queries",
            "<= 2 ms, <= 3 queries",
            av_time <= 0.002 and av_queries <= 3,
        )
    print_query_diff("queries of one balance read (credit_available):", read_kinds.counts, {}, 1)
    print_query_diff("queries of the credit fields of 100 customers in the POS load:", pos_kinds.counts, {}, 1)
    print(f"  movements list (80 of all, count limit 10,001): {fmt_ms(all_list[0])} ({all_list[1]} queries)")
    print(f"  movements list of the heavy customer: {fmt_ms(heavy_list[0])} ({heavy_list[1]} queries)")
    worst = max(all_list[0], heavy_list[0])
    record("Scale: movements list (web_search_read, 80)", fmt_ms(worst), "< 1000 ms", worst < 1.0)
    print(f"  POS customer load (_load_pos_data of a till): {fmt_ms(pos_load[0])} ({pos_load[1]} queries)")
    print(
        f"  POS customer read with balances: 100 customers {fmt_ms(pos_reads[100][0])} ({pos_reads[100][1]} queries), "
        f"1,000 customers {fmt_ms(pos_reads[1000][0])} ({pos_reads[1000][1]} queries)"
    )
    grows = pos_reads[1000][1] > pos_reads[100][1] + 2
    record(
        "Scale: POS customer load, queries 100 -> 1,000 customers",
        f"{pos_reads[100][1]} -> {pos_reads[1000][1]}",
        "not per customer",
        not grows,
    )
    seconds, queries, differences, how = recon
    print(f"  reconciliation ({how}): {seconds:.2f} s, {queries} queries, {differences} differences")
    record("Scale: reconciliation check", f"{seconds:.2f} s ({differences} differences)", "<= 2 s", seconds <= 2.0)
    print(f"  chart: {CHART}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
