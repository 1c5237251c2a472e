#!/usr/bin/env python3
"""Logistic regression in plain Python, packaged the way SageMaker expects a custom image to be.

`docker run <image> train` (what a TrainingJob runs) trains on the `train` channel, evaluates on the
optional `validation` channel, and writes model.json to /opt/ml/model. Hyperparameters arrive as
strings in /opt/ml/input/config/hyperparameters.json:
  epochs (int, default 300), learning_rate (float, default 0.5), l2 (float, default 0.001)
Bad input writes /opt/ml/output/failure and exits 1. SIGTERM saves the current model and exits 0.

`docker run <image> serve` (what an Endpoint runs) loads /opt/ml/model/model.json and answers on
port 8080: GET /ping, and POST /invocations with text/csv rows of the four features (one
probability per line back) or application/json {"instances": [[...], ...]} ({"predictions": [...]}).
The Accept header picks the answer's format (default: the request's).
"""
import csv
import glob
import json
import math
import os
import signal
import sys
import threading

PREFIX = "/opt/ml"
CONFIG = os.path.join(PREFIX, "input", "config")
DATA = os.path.join(PREFIX, "input", "data")
MODEL = os.path.join(PREFIX, "model")
OUTPUT = os.path.join(PREFIX, "output")
FEATURES = ["income_k", "debt_ratio", "years_employed", "late_payments"]


class InputError(Exception):
    pass


def fail(message):
    os.makedirs(OUTPUT, exist_ok=True)
    with open(os.path.join(OUTPUT, "failure"), "w") as f:
        f.write(message)
    print("error: " + message, file=sys.stderr, flush=True)
    sys.exit(1)


def load_json(name):
    with open(os.path.join(CONFIG, name)) as f:
        return json.load(f)


def hyperparameter(hps, name, kind, default):
    raw = hps.get(name)
    if raw is None:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise InputError("hyperparameter %s=%r is not a valid %s" % (name, raw, kind.__name__))
    if value < 0:
        raise InputError("hyperparameter %s must not be negative (got %s)" % (name, raw))
    return value


def load_channel(name):
    files = sorted(glob.glob(os.path.join(DATA, name, "**", "*.csv"), recursive=True))
    if not files:
        raise InputError("channel %r has no .csv files under %s" % (name, os.path.join(DATA, name)))
    xs, ys = [], []
    for path in files:
        with open(path, newline="") as f:
            for lineno, row in enumerate(csv.reader(f), start=1):
                if not row:
                    continue
                if len(row) != len(FEATURES) + 1:
                    raise InputError("%s line %d: expected %d columns (label first), got %d" % (path, lineno, len(FEATURES) + 1, len(row)))
                try:
                    ys.append(float(row[0]))
                    xs.append([float(v) for v in row[1:]])
                except ValueError:
                    raise InputError("%s line %d: non-numeric value in %r" % (path, lineno, row))
    return xs, ys


def sigmoid(z):
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def standardize(xs):
    n = len(xs)
    mean = [sum(r[j] for r in xs) / n for j in range(len(FEATURES))]
    std = [math.sqrt(sum((r[j] - mean[j]) ** 2 for r in xs) / n) or 1.0 for j in range(len(FEATURES))]
    return mean, std


def scale(xs, mean, std):
    return [[(r[j] - mean[j]) / std[j] for j in range(len(FEATURES))] for r in xs]


def predict(model, x):
    return sigmoid(model["bias"] + sum(w * v for w, v in zip(model["weights"], x)))


def log_loss(model, xs, ys):
    eps = 1e-12
    return -sum(y * math.log(predict(model, x) + eps) + (1 - y) * math.log(1 - predict(model, x) + eps) for x, y in zip(xs, ys)) / len(ys)


def auc(scores, ys):
    pairs = sorted(zip(scores, ys))
    pos = sum(ys)
    neg = len(ys) - pos
    if pos == 0 or neg == 0:
        return float("nan")
    rank_sum, i = 0.0, 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        avg_rank = (i + j + 1) / 2.0
        rank_sum += avg_rank * sum(y for _, y in pairs[i:j])
        i = j
    return (rank_sum - pos * (pos + 1) / 2.0) / (pos * neg)


def save(model, extra):
    os.makedirs(MODEL, exist_ok=True)
    with open(os.path.join(MODEL, "model.json"), "w") as f:
        json.dump(dict(model, **extra), f, indent=2)


def train():
    try:
        hps = load_json("hyperparameters.json")
        channels = load_json("inputdataconfig.json")
        epochs = int(hyperparameter(hps, "epochs", int, 300))
        lr = hyperparameter(hps, "learning_rate", float, 0.5)
        l2 = hyperparameter(hps, "l2", float, 0.001)
        if "train" not in channels:
            raise InputError("no 'train' channel: run with --channel train=<folder of CSV files>")
        xs, ys = load_channel("train")
        validation = load_channel("validation") if "validation" in channels else None
    except InputError as e:
        fail("InputError: %s" % e)

    mean, std = standardize(xs)
    xs = scale(xs, mean, std)
    if validation:
        vx, vy = scale(validation[0], mean, std), validation[1]
    model = {"features": FEATURES, "weights": [0.0] * len(FEATURES), "bias": 0.0, "mean": mean, "std": std}
    state = {"epoch": 0}

    def on_sigterm(signum, frame):
        save(model, {"epochs_completed": state["epoch"], "stopped_early": True})
        print("SIGTERM: saved the model after %d epochs" % state["epoch"], flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, on_sigterm)
    print("training on %d rows, %d features; epochs=%d learning_rate=%s l2=%s" % (len(xs), len(FEATURES), epochs, lr, l2), flush=True)
    n = len(xs)
    for epoch in range(1, epochs + 1):
        grad_w = [0.0] * len(FEATURES)
        grad_b = 0.0
        for x, y in zip(xs, ys):
            err = predict(model, x) - y
            grad_b += err
            for j, v in enumerate(x):
                grad_w[j] += err * v
        model["bias"] -= lr * grad_b / n
        model["weights"] = [w - lr * (g / n + l2 * w) for w, g in zip(model["weights"], grad_w)]
        state["epoch"] = epoch
        if epoch % 50 == 0 or epoch == epochs:
            line = "epoch=%d train_loss=%.6f" % (epoch, log_loss(model, xs, ys))
            if validation:
                line += " val_loss=%.6f val_auc=%.4f" % (log_loss(model, vx, vy), auc([predict(model, x) for x in vx], vy))
            print(line, flush=True)

    metrics = {"train_loss": log_loss(model, xs, ys), "epochs": epochs}
    if validation:
        scores = [predict(model, x) for x in vx]
        metrics.update(
            val_loss=log_loss(model, vx, vy),
            val_auc=auc(scores, vy),
            val_accuracy=sum((s >= 0.5) == (y == 1) for s, y in zip(scores, vy)) / len(vy),
        )
    save(model, {"epochs_completed": epochs, "hyperparameters": hps})
    os.makedirs(os.path.join(OUTPUT, "data"), exist_ok=True)
    with open(os.path.join(OUTPUT, "data", "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2)
    print("done: " + ", ".join("%s=%.4f" % (k, v) for k, v in sorted(metrics.items())), flush=True)


class BadRequest(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def parse_rows(content_type, body):
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadRequest(400, "the body is not UTF-8 text: %s" % e)
    if content_type == "text/csv":
        rows = [line.split(",") for line in text.splitlines() if line.strip()]
    elif content_type == "application/json":
        try:
            rows = json.loads(text)["instances"]
        except (ValueError, KeyError, TypeError):
            raise BadRequest(400, 'expected {"instances": [[income_k, debt_ratio, years_employed, late_payments], ...]}')
    else:
        raise BadRequest(415, "unsupported content type %r: send text/csv or application/json" % content_type)
    try:
        parsed = [[float(v) for v in row] for row in rows]
    except (TypeError, ValueError):
        raise BadRequest(400, "every value must be a number")
    for i, row in enumerate(parsed):
        if len(row) != len(FEATURES):
            raise BadRequest(400, "row %d has %d values; expected %d (%s)" % (i + 1, len(row), len(FEATURES), ", ".join(FEATURES)))
    return parsed


def serve():
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Server(ThreadingHTTPServer):
        # socketserver listens with a backlog of 5; real model servers (gunicorn, MMS) use thousands.
        request_queue_size = 1024
        daemon_threads = True

    with open(os.path.join(MODEL, "model.json")) as f:
        model = json.load(f)
    print("serving model trained for %s epochs" % model.get("epochs_completed"), flush=True)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; without TCP_NODELAY each answer waits ~40 ms for a delayed ACK.
        disable_nagle_algorithm = True

        def log_message(self, fmt, *args):
            pass

        def send(self, status, body, content_type):
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/ping":
                self.send(200, "", "text/plain")
            else:
                self.send(404, "not found", "text/plain")

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path != "/invocations":
                return self.send(404, "not found", "text/plain")
            content_type = (self.headers.get("Content-Type") or "text/csv").split(";")[0].strip()
            accept = (self.headers.get("Accept") or content_type).split(";")[0].strip()
            try:
                rows = parse_rows(content_type, body)
                scores = [predict(model, [(v - m) / s for v, m, s in zip(row, model["mean"], model["std"])]) for row in rows]
                if accept == "text/csv":
                    return self.send(200, "".join("%.6f\n" % p for p in scores), "text/csv")
                if accept == "application/json":
                    out = {"predictions": [{"probability": round(p, 6), "default": int(p >= 0.5)} for p in scores]}
                    return self.send(200, json.dumps(out), "application/json")
                raise BadRequest(406, "cannot answer in %r: accept text/csv or application/json" % accept)
            except BadRequest as e:
                self.send(e.status, str(e), "text/plain")

    server = Server(("0.0.0.0", int(os.environ.get("SAGEMAKER_BIND_TO_PORT", "8080"))), Handler)
    signal.signal(signal.SIGTERM, lambda signum, frame: threading.Thread(target=server.shutdown).start())
    server.serve_forever()
    print("server stopped", flush=True)


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "train":
        train()
    elif command == "serve":
        serve()
    else:
        print("usage: %s train|serve   (SageMaker runs the image with the word 'train' or 'serve')" % sys.argv[0], file=sys.stderr)
        sys.exit(2)
