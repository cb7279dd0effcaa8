"""The one summary table of `make bench`: every figure the scripts recorded, against its target.

    python bench/summary.py <results.jsonl>

Each bench script appends its figures to the file named by BENCH_RESULTS (one JSON object a line:
figure, measured, target, ok); this prints them as one table, then the count of targets met.
"""

# pylint: disable=print-used
import json
import sys

from benchlib import machine


def main(path):
    try:
        with open(path, encoding="utf-8") as results:
            rows = [json.loads(row) for row in results if row.strip()]
    except FileNotFoundError:
        rows = []
    headers = ("figure", "measured", "target", "ok/KO")
    table = [
        (row["figure"], row["measured"], row["target"], {True: "ok", False: "KO"}.get(row["ok"], "")) for row in rows
    ]
    widths = [max([len(headers[i])] + [len(str(line[i])) for line in table]) for i in range(4)]
    rule = "+".join("-" * (width + 2) for width in widths)
    print(f"\nBench summary ({machine()})")
    print(rule)
    print(" | ".join(header.ljust(width) for header, width in zip(headers, widths, strict=True)))
    print(rule)
    for line in table:
        print(" | ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)))
    print(rule)
    checked = [row for row in rows if row["ok"] is not None]
    met = sum(1 for row in checked if row["ok"])
    print(f"{met} of {len(checked)} targets met")


if __name__ == "__main__":
    main(sys.argv[1])
