"""One batch of a scheduled action that handles records one by one, shared by the credit crons."""

import psycopg2

from odoo.service.model import PG_CONCURRENCY_ERRORS_TO_RETRY


def run_cron_batch(model, domain, process, failure, batch_size, logger, order="id", sort_key=None):
    """Run ``process(record)`` on up to ``batch_size`` records of ``model`` matching ``domain``, each
    in a savepoint (safe to run again: ``process`` must take a record out of ``domain``).

    A record that fails is logged on ``logger`` (``failure % (record.name, error)``) and skipped, and the batch is
    filled with the next ones, so failing records never hold back the others (they are taken again by
    the job's next call, not by this one); a concurrency error is raised instead, which rolls the call
    back: the job's next call takes its records on fresh data. The cron is told how many records
    could still be processed, so Odoo runs it again at once until none is left
    (``ir.cron._run_job``). ``sort_key``: the order in which each batch read is processed (locks
    taken in a fixed order). Returns the records processed."""
    done = failed = model.browse()
    while len(done) < batch_size:
        records = model.search([*domain, ("id", "not in", failed.ids)], limit=batch_size - len(done), order=order)
        if not records:
            break
        for record in records.sorted(sort_key) if sort_key else records:
            try:
                with model.env.cr.savepoint():
                    process(record)
                done |= record
            except Exception as error:  # one record must not hold back the others
                if isinstance(error, psycopg2.Error) and error.pgcode in PG_CONCURRENCY_ERRORS_TO_RETRY:
                    raise
                logger.warning(failure, record.name, error)
                failed |= record
    remaining = model.search_count([*domain, ("id", "not in", failed.ids)])
    model.env["ir.cron"]._notify_progress(done=len(done), remaining=remaining)
    return done
