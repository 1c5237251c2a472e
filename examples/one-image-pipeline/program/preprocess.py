#!/usr/bin/env python3
"""The preprocessing step of the one-image pipeline, as a SageMaker processing job runs it.

Reads every CSV under the `raw` input (label first, four numeric features), checks each row,
shuffles them with a fixed seed and splits them into the `train` and `validation` outputs, whose
folders it finds in /opt/ml/config/processingjobconfig.json. With several hosts each takes its
share of rows and writes files named after itself. Arguments:
  --validation-ratio R   share of rows for validation (default 0.2)
  --seed N               shuffle seed (default 42)
Bad rows fail the job with the reason in /opt/ml/output/message (the job's ExitMessage).
"""
import argparse
import csv
import glob
import json
import os
import random
import sys

COLUMNS = 5


def fail(message):
    with open("/opt/ml/output/message", "w") as f:
        f.write(message)
    print("error: " + message, file=sys.stderr, flush=True)
    sys.exit(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--validation-ratio", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    with open("/opt/ml/config/processingjobconfig.json") as f:
        job = json.load(f)
    with open("/opt/ml/config/resourceconfig.json") as f:
        resource = json.load(f)
    inputs = {i["InputName"]: i["S3Input"]["LocalPath"] for i in job["ProcessingInputs"] or []}
    outputs = {o["OutputName"]: o["S3Output"]["LocalPath"] for o in (job["ProcessingOutputConfig"] or {}).get("Outputs", [])}
    for name in ("train", "validation"):
        if name not in outputs:
            fail("no %r output: run with --output %s" % (name, name))
    if "raw" not in inputs:
        fail("no 'raw' input: run with --input raw=<folder of CSV files>")

    rows = []
    for path in sorted(glob.glob(os.path.join(inputs["raw"], "**", "*.csv"), recursive=True)):
        with open(path, newline="") as f:
            for lineno, row in enumerate(csv.reader(f), start=1):
                if not row:
                    continue
                if len(row) != COLUMNS:
                    fail("%s line %d: expected %d columns (label first), got %d" % (os.path.relpath(path, inputs["raw"]), lineno, COLUMNS, len(row)))
                try:
                    [float(v) for v in row]
                except ValueError:
                    fail("%s line %d: non-numeric value in %r" % (os.path.relpath(path, inputs["raw"]), lineno, row))
                rows.append(row)
    if not rows:
        fail("the raw input has no CSV rows")

    hosts = sorted(resource["hosts"])
    me = resource["current_host"]
    random.Random(args.seed).shuffle(rows)
    mine = rows[hosts.index(me)::len(hosts)]
    cut = int(round(len(mine) * (1 - args.validation_ratio)))
    suffix = "" if len(hosts) == 1 else "-" + me
    for name, part in (("train", mine[:cut]), ("validation", mine[cut:])):
        with open(os.path.join(outputs[name], "%s%s.csv" % (name, suffix)), "w", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(part)
    print("%s: %d rows -> train %d, validation %d" % (me, len(mine), cut, len(mine) - cut), flush=True)


if __name__ == "__main__":
    main()
